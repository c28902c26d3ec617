"""评课: rubric reviews, flags on staged lessons, and their events."""
