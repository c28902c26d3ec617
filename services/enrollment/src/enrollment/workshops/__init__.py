"""工作坊: stage+subject workshops, their hosts, members and cases (案例)."""
