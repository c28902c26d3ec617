"""晒课/赛课: lessons, tiered selection, constraints, quotas, awards, scores and exports."""
