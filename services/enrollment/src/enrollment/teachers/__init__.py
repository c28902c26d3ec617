"""教师信息: teacher records, their personal data, history and transfers."""
