from insights.models import metadata
from yanxiu.kit.migrations import run_env

run_env(metadata)
