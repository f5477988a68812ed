from migrations.environment import run
from services.dr.models import Base

run(Base.metadata)
