"""Leaders' work around petitions (《信访工作条例》第十八条): case contracting (包案, ``LeaderContract``),
instructions (阅批) that become tracked tasks for the named unit, and the duty rota with its log (值班)."""
