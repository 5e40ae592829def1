"""Coupons in the GUI: the coupon field of the purchase dialog, the member's coupons in the panel, the campaigns
screen and coupon printing. Every rule is in app.coupons; these only ask and show."""
