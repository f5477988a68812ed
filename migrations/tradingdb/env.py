from migrations.environment import run
from services.trading.models import Base

run(Base.metadata)
