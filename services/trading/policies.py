"""Who may do what in the market: each user with their own orders and devices,
ADMIN with settlement. Staff trade as any user: the roles that read everyone's
devices still sell only from their own, and see only their own orders. VIEWER
reads the book and the trades, like anyone, and places no order."""

from services.common.policy import ADMIN, WRITERS, Policy

#: Place an order at all (selling from which device: ``SELL_FROM_DEVICE``).
PLACE_ORDER = Policy("place", roles=WRITERS)
#: See one's order.
READ_ORDER = Policy("read", owner=True)
#: Cancel one's open order.
CANCEL_ORDER = Policy("cancel", owner=True)
#: Sell what a device delivers.
SELL_FROM_DEVICE = Policy("sell_from", owner=True)
#: Settle an hour that has ended, before the timer does.
SETTLE = Policy("settle", roles=(ADMIN,))
