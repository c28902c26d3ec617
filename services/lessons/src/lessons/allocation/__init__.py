"""观评课分配: review pools from enrollment events and balanced, seeded allocation runs."""
