"""What a demo store is made of: branches, staff, names, products, gifts, tags and complaint texts.

Plain data, so the generator's code reads as rules and this file reads as a shop. Frequencies are rough shares
from published surname rankings; the heteronym surnames (单 曾 解 仇 朴 区 查 盖) and two compound surnames are
in on purpose, because lookup by pinyin must find them (docs/ARCHITECTURE.md §5).
"""

from __future__ import annotations

from dataclasses import dataclass

from db.enums import StaffRole


@dataclass(frozen=True)
class BranchSpec:
    code: str
    name: str
    address: str
    phone: str
    share: float
    """Share of members whose home branch this is."""


HQ_CODE = "HQ"  # the branch app.bootstrap creates (总店)

BRANCHES = (
    BranchSpec(HQ_CODE, "总店", "人民路128号", "0571-88000001", 0.45),
    BranchSpec("EG", "东门店", "东门大街88号", "0571-88000002", 0.33),
    BranchSpec("WC", "西城店", "西城路16号", "0571-88000003", 0.22),
)


@dataclass(frozen=True)
class StaffSpec:
    username: str
    display_name: str
    role: StaffRole
    branch_code: str
    pin: str


STAFF = (
    StaffSpec("manager", "王丽", StaffRole.MANAGER, HQ_CODE, "6666"),
    StaffSpec("cashier1", "李娜", StaffRole.CASHIER, HQ_CODE, "1234"),
    StaffSpec("cashier2", "张伟", StaffRole.CASHIER, "EG", "1234"),
    StaffSpec("cashier3", "陈静", StaffRole.CASHIER, "WC", "1234"),
)

# (surname, weight in ‰ of members)
# fmt: off
SURNAMES: tuple[tuple[str, float], ...] = (
    ("王", 70), ("李", 68), ("张", 64), ("刘", 52), ("陈", 45), ("杨", 31), ("黄", 23), ("赵", 21), ("吴", 20),
    ("周", 19), ("徐", 15), ("孙", 14), ("马", 13), ("朱", 12), ("胡", 12), ("郭", 11), ("何", 10), ("高", 10),
    ("林", 10), ("罗", 9), ("郑", 9), ("梁", 8), ("谢", 7), ("宋", 7), ("唐", 7), ("许", 6), ("韩", 6), ("冯", 6),
    ("邓", 6), ("曹", 5), ("彭", 5), ("肖", 5), ("田", 5), ("董", 5), ("袁", 4), ("潘", 4), ("于", 4), ("蒋", 4),
    ("蔡", 4), ("余", 4), ("杜", 4), ("叶", 4), ("程", 4), ("苏", 3), ("魏", 3), ("吕", 3), ("丁", 3), ("任", 3),
    ("沈", 3), ("姚", 3), ("卢", 3), ("姜", 3), ("崔", 3), ("钟", 3), ("谭", 3), ("陆", 3), ("汪", 3), ("范", 3),
    ("金", 3), ("石", 3), ("廖", 3), ("贾", 3), ("夏", 2), ("韦", 2), ("方", 2), ("白", 2), ("邹", 2), ("孟", 2),
    ("熊", 2), ("秦", 2), ("邱", 2), ("江", 2), ("尹", 2), ("薛", 2), ("段", 2), ("雷", 2), ("侯", 2), ("龙", 2),
    ("史", 2), ("陶", 2), ("黎", 2), ("贺", 2), ("顾", 2), ("毛", 2), ("郝", 2), ("龚", 2), ("邵", 2), ("万", 2),
    ("钱", 2), ("严", 2), ("覃", 1), ("武", 2), ("戴", 2), ("莫", 1), ("孔", 1), ("向", 1), ("汤", 1),
    # heteronym surnames: about 4% of members together (曾 is common in its own right)
    ("曾", 10), ("单", 6), ("解", 4), ("仇", 4), ("朴", 4), ("区", 4), ("查", 4), ("盖", 4),
    # compound surnames
    ("欧阳", 2), ("司马", 1),
)
# fmt: on

HETERONYM_SURNAMES = ("单", "曾", "解", "仇", "朴", "区", "查", "盖")

# Given-name characters by gender and by generation: people born before 1980 rarely carry 梓 or 轩.
GIVEN_NAMES = {
    ("female", "older"): "秀英华兰芳玉珍桂凤红梅霞丽萍艳敏静燕琴云莲淑",
    ("female", "younger"): "婷雪玲慧颖琳洁晶欣怡佳倩悦思雨梦瑶涵欢蕾萱诗雅琪妍彤可心月",
    ("male", "older"): "国建军华明平强伟勇刚志文东海亮成林德福忠兴永",
    ("male", "younger"): "杰涛斌超辉鹏飞鑫波宇浩凯健俊帆旭宁峰博轩睿哲昊子豪晨阳磊",
}

# Mobile number prefixes in use on the mainland (1[3-9]x).
# fmt: off
PHONE_PREFIXES = (
    "130", "131", "132", "133", "134", "135", "136", "137", "138", "139", "147", "150", "151", "152", "153", "155",
    "156", "157", "158", "159", "166", "172", "173", "175", "176", "177", "178", "180", "181", "182", "183", "184",
    "185", "186", "187", "188", "189", "191", "193", "195", "198", "199",
)
# fmt: on

# County codes for the few members who gave an ID number (encrypted at rest).
ID_REGIONS = ("330102", "330106", "330108", "110101", "310104", "320102", "440305", "510104")


@dataclass(frozen=True)
class ProductSpec:
    sku: str
    name: str
    category: str
    price_fen: int


PRODUCTS = (
    ProductSpec("P1001", "红富士苹果 500g", "fresh", 699),
    ProductSpec("P1002", "香蕉 500g", "fresh", 399),
    ProductSpec("P1003", "土鸡蛋 10枚", "fresh", 1590),
    ProductSpec("P1004", "西红柿 500g", "fresh", 459),
    ProductSpec("P1005", "精品五花肉 500g", "fresh", 1890),
    ProductSpec("P1006", "鲜活草鱼 500g", "fresh", 1290),
    ProductSpec("P1007", "上海青 500g", "fresh", 299),
    ProductSpec("P1008", "大白菜 500g", "fresh", 129),
    ProductSpec("P2001", "金龙鱼调和油 5L", "grain", 6990),
    ProductSpec("P2002", "五常大米 5kg", "grain", 5990),
    ProductSpec("P2003", "鲁花花生油 5L", "grain", 15990),
    ProductSpec("P2004", "海天生抽 1.9L", "grain", 2290),
    ProductSpec("P2005", "金沙河挂面 1kg", "grain", 990),
    ProductSpec("P2006", "太太乐鸡精 200g", "grain", 1190),
    ProductSpec("P3001", "乐事薯片 原味 104g", "snack", 850),
    ProductSpec("P3002", "奥利奥饼干 388g", "snack", 1890),
    ProductSpec("P3003", "旺旺雪饼 520g", "snack", 1590),
    ProductSpec("P3004", "每日坚果礼盒 750g", "snack", 12800),
    ProductSpec("P3005", "德芙丝滑牛奶巧克力 252g", "snack", 3990),
    ProductSpec("P4001", "农夫山泉 550ml", "drink", 200),
    ProductSpec("P4002", "可口可乐 330ml×6", "drink", 1650),
    ProductSpec("P4003", "伊利纯牛奶 250ml×16", "drink", 6590),
    ProductSpec("P4004", "青岛啤酒 500ml×12", "drink", 5990),
    ProductSpec("P4005", "王老吉 310ml×12", "drink", 4990),
    ProductSpec("P4006", "牛栏山二锅头 500ml", "drink", 1690),
    ProductSpec("P5001", "维达抽纸 3层×24包", "daily", 4990),
    ProductSpec("P5002", "蓝月亮洗衣液 3kg", "daily", 4590),
    ProductSpec("P5003", "高露洁牙膏 180g", "daily", 1290),
    ProductSpec("P5004", "海飞丝洗发水 400ml", "daily", 5990),
    ProductSpec("P5005", "立白洗洁精 1.5kg", "daily", 990),
    ProductSpec("P6001", "飞鹤星飞帆奶粉 3段 700g", "baby", 27800),
    ProductSpec("P6002", "帮宝适纸尿裤 L码 52片", "baby", 12900),
    ProductSpec("P6003", "婴儿湿巾 80抽×3", "baby", 1590),
    ProductSpec("P7001", "三全猪肉水饺 1kg", "frozen", 2290),
    ProductSpec("P7002", "思念黑芝麻汤圆 500g", "frozen", 1290),
    ProductSpec("P7003", "光明原味酸奶 200g×4", "frozen", 1290),
    ProductSpec("P7004", "蒙牛随变冰淇淋", "frozen", 500),
    ProductSpec("P8001", "中华（硬）", "tobacco", 4500),
    ProductSpec("P8002", "玉溪（软）", "tobacco", 2300),
    ProductSpec("P8003", "黄鹤楼（软蓝）", "tobacco", 1900),
    ProductSpec("P8004", "云烟（紫）", "tobacco", 1100),
)


@dataclass(frozen=True)
class GiftSpec:
    name: str
    name_en: str
    points_price: int
    stock_per_3000_members: int
    """Enough that the popular gifts are still in stock after two years of the demo's redemptions."""


GIFTS = (
    GiftSpec("环保购物袋", "Reusable shopping bag", 200, 900),
    GiftSpec("维达抽纸一提", "Tissues (pack)", 800, 400),
    GiftSpec("晴雨伞", "Umbrella", 1500, 200),
    GiftSpec("不锈钢保温杯", "Vacuum flask", 2500, 120),
    GiftSpec("食用油 5L", "Cooking oil 5 L", 4000, 100),
    GiftSpec("电饭煲", "Rice cooker", 12000, 20),
)

TAG_MOTHER = "宝妈"
TAG_SENIOR = "老人"
TAG_OFFICE = "上班族"
TAG_THRIFTY = "价格敏感"
TAG_STUDENT = "学生"
TAG_FRESH = "生鲜常客"

NOTES = (
    "送货上门：幸福小区3栋",
    "对花生过敏",
    "喜欢进口零食，到货请通知",
    "常买整箱牛奶",
    "希望周末有试吃活动",
    "老顾客，结账请耐心",
)

# category, subject, severity
COMPLAINTS = (
    ("商品质量", "买到的酸奶已胀袋", "high"),
    ("商品质量", "苹果里面坏了", "medium"),
    ("价格标签", "货架价格和结账价格不一致", "medium"),
    ("积分问题", "上次购物的积分没有到账", "medium"),
    ("服务态度", "收银员态度不好", "high"),
    ("排队时间", "周末只开了一个收银台", "low"),
    ("环境卫生", "生鲜区地面湿滑", "low"),
    ("商品质量", "鸡蛋有几个是破的", "low"),
)
COMPLAINT_CHANNELS = ("counter", "phone", "wechat")
