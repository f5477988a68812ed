from migrations.environment import run
from services.monitoring.models import Base

run(Base.metadata)
