from migrations.environment import run
from services.support.models import Base

run(Base.metadata)
