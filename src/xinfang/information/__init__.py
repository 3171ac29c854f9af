"""Information sent up the chain (信访信息、摘报): a clerk drafts a short report on a trend or an
important case, an approver signs it off, it goes to the level above, which reads an inbox of
reports from below; urgent matters (Art. 25) travel the same path."""
