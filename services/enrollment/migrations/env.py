import enrollment.main  # noqa: F401  (imports every feature, so all tables are registered)
from enrollment.models import metadata
from yanxiu.kit.migrations import run_env

run_env(metadata)
