from migrations.environment import run
from services.devices.models import Base

run(Base.metadata)
