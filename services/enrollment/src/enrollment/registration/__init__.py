"""培训项目与报名: yearly projects and the registration cascade."""
