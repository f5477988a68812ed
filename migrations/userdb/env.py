from migrations.environment import run
from services.users.models import Base

run(Base.metadata)
