"""信息技术应用能力提升工程2.0 (Hefei IT 2.0): a teacher's role in a project, the ability-point
catalogue, and the certification of ability points and role tasks (能力点认证, 校本应用考核)
that counts towards the requirements besides hours."""
