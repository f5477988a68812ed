from migrations.environment import run
from services.audit.models import Base

run(Base.metadata)
