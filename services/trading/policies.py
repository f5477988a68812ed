"""Who may do what in the market: each user with their own orders and devices,
ADMIN with settlement. Staff trade as any user: the roles that read everyone's
devices still sell only from their own, and see only their own orders."""

from services.common.policy import ADMIN, Policy

#: See one's order.
READ_ORDER = Policy("read", owner=True)
#: Cancel one's open order.
CANCEL_ORDER = Policy("cancel", owner=True)
#: Sell what a device delivers.
SELL_FROM_DEVICE = Policy("sell_from", owner=True)
#: Settle an hour that has ended, before the timer does.
SETTLE = Policy("settle", roles=(ADMIN,))
