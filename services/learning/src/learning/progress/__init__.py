"""学习进度: verified video progress from heartbeats, and assessments (考核)."""
