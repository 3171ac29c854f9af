"""Reception days (领导接待日, ``ReceptionSession``): schedules as rules over the legal calendar, rotas of
leaders, the public schedule and citizens' bookings on the portal (Art. 18), the day's bookings for the
clerk, and visits down and appointments (下访、约访) with their participants and petitions."""
