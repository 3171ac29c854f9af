"""The workbench (工作台): the first page after login, each person's work for today.  Reads only,
through selectors of the apps below it."""
