"""课程: the course catalogue (required/elective × subject/general, topics, assessments)."""
