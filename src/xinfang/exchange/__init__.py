"""Cases referred from above (上级交办) and their report back, between two Xinfang installations or
with another platform, over the HTTP API with system accounts (docs/api.md, "Exchange")."""
