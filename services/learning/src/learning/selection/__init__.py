"""选课: the school's general topics and the teacher's course selection, with suggestions."""
