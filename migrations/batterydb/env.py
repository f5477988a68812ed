from migrations.environment import run
from services.batteries.models import Base

run(Base.metadata)
