"""Supervision (督办) and urging (催办): supervision notices and their feedback, automatic reminders
before and after staff deadlines, escalation, and the records of summons, circulated notices and
improvement recommendations (《信访工作条例》Arts. 39-40)."""
