from migrations.environment import run
from services.alarms.models import Base

run(Base.metadata)
