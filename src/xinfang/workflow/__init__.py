"""The statutory workflow: the legal calendar, deadline rules per jurisdiction and (later) the transitions."""
