"""Campaigns on backlog (专项行动、积案化解): the office's definition of a backlog case (积案) and the
list it selects, campaigns with their cases, targets, resolution categories and closing report, and
help after conclusion (信访救助, Art. 37)."""
