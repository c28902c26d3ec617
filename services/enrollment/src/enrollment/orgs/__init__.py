"""组织机构: the province → city → county → school tree and its admins."""
