"""Coupons and campaigns: codes, campaign rules, issuing, printing marks, redemption at the counter, automatic
campaigns. No Qt; the counter, the campaigns screen and the command line all call CouponService."""
