"""Petition texts for demo and benchmark data: issue topics, templates and random fragments.

Every petition text is built from a topic's templates and fragments drawn with a ``random.Random``
seeded by the caller, so the same seed always writes the same words.  Each topic names the category
(by its names in ``petitions.category_seed``, so the codes may be renumbered) and the department
that usually answers for it.  No text here is taken from a real petition.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from xinfang.petitions.category_seed import CATEGORIES
from xinfang.petitions.choices import Purpose


@dataclass(frozen=True)
class Topic:
    """One kind of matter people petition about, with the words to describe it."""

    key: str
    category: tuple[str, str]  # (first-level name, entry name) in category_seed.CATEGORIES
    weight: int  # relative frequency among new petitions
    purposes: tuple[tuple[str, int], ...]  # (Purpose, weight)
    titles: tuple[str, ...]
    bodies: tuple[str, ...]
    subjects: tuple[str, ...] = ()  # subject_name templates (被反映人/单位); empty: none named
    department: str = ""  # short name of the department that answers for it (see tree.DEPARTMENTS)
    who: tuple[str, ...] = ("{village}村民",)  # how the petitioner introduces themself


def category_code(first: str, entry: str) -> str:
    """The code the category migration gives to ``entry`` under ``first`` (e.g. "0201")."""
    for code, name, children in CATEGORIES:
        if name == first:
            return f"{code}{children.index(entry) + 1:02d}"
    raise KeyError(first)


T = TypeVar("T")

_C, _R, _S, _Q = Purpose.COMPLAINT, Purpose.REPORT, Purpose.SUGGESTION, Purpose.REQUEST

TOPICS: tuple[Topic, ...] = (
    Topic(
        "land_compensation",
        ("国土资源", "土地征收补偿"),
        12,
        ((_Q, 6), (_C, 4)),
        ("反映{village}征地补偿款未足额发放", "{village}土地征收补偿标准过低", "要求落实{project}征地安置"),
        (
            "{year}年{project}项目征收{village}集体土地，{we}家被征收承包地{mu}亩，按规定应得补偿款{amount}，"
            "至今只领到一部分，其余款项村里和镇里互相推诿。",
            "{village}的土地于{year}年被征收用于{project}，补偿标准每亩{price}元，明显低于周边同类项目，"
            "{we}多次到{town}政府反映未果。",
            "征地时承诺的安置房和被征地农民社会保障至今没有落实，{we}一家{family}口人失去土地后没有生活来源。",
        ),
        ("{town}人民政府", "{village}村民委员会"),
        "自然资源局",
    ),
    Topic(
        "unpaid_wages",
        ("劳动和社会保障", "拖欠工资"),
        14,
        ((_Q, 7), (_C, 5)),
        ("{company}拖欠农民工工资", "讨要{project}工程欠薪", "请求帮助追讨拖欠工资{amount}"),
        (
            "{we}在{company}承建的{project}工地做{trade}，从{year}年{month}月干到年底，共{n}人被拖欠工资{amount}。"
            "包工头{surname}某称开发商没有拨款，一直拖着不给。",
            "项目已经完工验收，但{company}以资金紧张为由拖欠{we}{months}个月工资，多次到项目部讨要都被推脱，"
            "劳动保障监察大队登记后也没有结果。",
            "{company}老板{surname}某去年底失联，工地{n}名工人{months}个月的工资没有着落，临近春节大家都很着急。",
        ),
        ("{company}", "包工头{surname}某"),
        "人社局",
        who=("农民工", "{village}村民"),
    ),
    Topic(
        "property_management",
        ("城乡建设", "物业管理"),
        9,
        ((_C, 8), (_S, 2)),
        ("{estate}物业服务差、乱收费", "反映{estate}物业公司擅自涨价", "{estate}电梯长期故障无人维修"),
        (
            "{estate}物业公司收费后不履行服务，垃圾清运不及时，{facility}长期损坏无人维修，业主多次反映无果。",
            "物业公司未经业主大会同意，把物业费从每平方米{fee}元上调到{fee2}元，并以停水停电相威胁催缴。",
            "小区{n}号楼电梯三个月内故障{k}次，有老人被困，物业公司称维修资金申请不下来。",
        ),
        ("{estate}物业服务公司",),
        "住建局",
        who=("{estate}业主",),
    ),
    Topic(
        "pension",
        ("劳动和社会保障", "养老保险"),
        8,
        ((_Q, 8), (_C, 2)),
        ("养老金待遇核定有误", "要求补缴养老保险", "退休后养老金迟迟未发放"),
        (
            "本人今年{age}岁，原在{company}工作{k}年，{year}年办理退休，社保部门核定的缴费年限少算了{gap}年，"
            "养老金每月少发{small}元。",
            "原单位{company}改制时没有给职工足额缴纳养老保险，{we}现在达到退休年龄却无法办理退休手续。",
            "{year}年{month}月办理退休手续后，已经{months}个月没有领到养老金，社保经办机构说材料还在审核。",
        ),
        ("{company}",),
        "人社局",
        who=("退休职工", "{company}职工"),
    ),
    Topic(
        "veterans",
        ("民政", "退役军人待遇"),
        6,
        ((_Q, 9), (_C, 1)),
        ("退役军人优待金未落实", "反映退役士兵安置问题", "请求认定参战退役人员身份"),
        (
            "本人{year0}年入伍，{year1}年退役回乡，按政策应享受的优待金和医疗保障一直没有落实，"
            "{town}退役军人服务站说档案不全。",
            "本人是参战退役人员，多次申请认定身份并享受相关补助，有关部门以缺少证明材料为由不予办理。",
            "退役时承诺安排工作，至今已经{k}年仍未安置，家里老人患病，生活十分困难。",
        ),
        (),
        "退役军人事务局",
        who=("退役军人", "{village}村民"),
    ),
    Topic(
        "drinking_water",
        ("农业农村", "农村饮水"),
        6,
        ((_Q, 6), (_C, 3), (_S, 1)),
        ("{village}群众饮水困难", "{village}自来水水质浑浊", "反映{village}供水管网年久失修"),
        (
            "{village}{n}户群众的自来水经常停水，夏天一停就是{k}天，{we}只能到几里外挑水吃。",
            "村里的自来水发黄浑浊，有异味，烧开后有沉淀，担心影响身体健康，要求检测水质。",
            "{year}年修建的供水管网多处破损漏水，村里没有钱维修，群众饮水得不到保障。",
        ),
        (),
        "水利局",
    ),
    Topic(
        "village_finance",
        ("农业农村", "农村集体财务"),
        7,
        ((_R, 6), (_C, 3), (_Q, 1)),
        ("检举{village}村干部侵占集体资金", "要求公开{village}集体账目", "{village}集体土地租金去向不明"),
        (
            "{village}村委会近{k}年从不公开财务，集体土地出租收入每年{amount}，去向不明，"
            "村民怀疑被村干部{surname}某挪用。",
            "{village}党支部书记{surname}某在{project}项目中虚报工程量，套取集体资金{amount}，请上级调查。",
            "村里修路、修水渠的账目从未张榜公布，村民代表要求查账被拒绝。",
        ),
        ("{village}党支部书记{surname}某", "{village}村民委员会", "{village}村委会主任{surname}某"),
        "农业农村局",
        who=("{village}村民", "{village}村民代表"),
    ),
    Topic(
        "neighbour_dispute",
        ("政法", "邻里纠纷"),
        7,
        ((_Q, 7), (_C, 3)),
        ("与邻居宅基地边界纠纷", "邻居建房影响采光和排水", "邻里纠纷请求调解"),
        (
            "邻居{surname}某翻建房屋时占用{we}家宅基地约{sqm}平方米，还把排水管接到{we}家院墙下，"
            "多次协商不成，村调解委员会调解也没有结果。",
            "邻居{surname}某新建的{floors}层楼房紧挨{we}家，严重影响采光通风，{town}政府称其有审批手续。",
            "邻居长期在公共通道堆放杂物，挡住{we}家出行道路，发生争执后对方多次辱骂威胁。",
        ),
        ("邻居{surname}某",),
        "",
        who=("{village}村民", "居民"),
    ),
    Topic(
        "noise",
        ("生态环境", "噪声污染"),
        6,
        ((_C, 7), (_S, 3)),
        ("{estate}附近工地夜间施工噪声扰民", "反映{shop}噪声扰民", "请求治理{road}交通噪声"),
        (
            "{estate}旁边的工地每天施工到凌晨{hour}点，打桩声、渣土车声不断，居民无法休息，打热线后只停了两天。",
            "楼下{shop}每晚营业到深夜，音响声音很大，老人孩子无法入睡，找经营者沟通没有效果。",
            "{road}改造后大货车通行量猛增，噪声和震动严重影响沿线居民，建议设置限速和隔音屏。",
        ),
        ("{shop}", "{company}"),
        "生态环境局",
        who=("{estate}业主", "居民"),
    ),
    Topic(
        "school_places",
        ("教育", "入学招生"),
        5,
        ((_Q, 6), (_C, 3), (_S, 1)),
        ("孩子就近入学问题", "随迁子女入学难", "反映{school}招生划片不合理"),
        (
            "{we}家住{estate}，按划片应就读{school}，但学校以学位已满为由让孩子到{k}公里外的学校就读。",
            "{we}在本地务工{k}年，已经办理居住证并缴纳社保，孩子申请就读公办学校被拒。",
            "今年{school}的招生划片把{estate}划了出去，离得最近的学校反而不能上，请求重新审查划片方案。",
        ),
        ("{school}",),
        "教育局",
        who=("{estate}业主", "居民", "外来务工人员"),
    ),
    Topic(
        "medical_dispute",
        ("卫生健康", "医疗纠纷"),
        5,
        ((_C, 7), (_Q, 3)),
        ("{hospital}医疗纠纷", "反映{hospital}过度医疗、乱收费", "要求查明亲属在{hospital}的死亡原因"),
        (
            "{we}家人于{year}年{month}月在{hospital}做{surgery}手术，术后出现严重并发症，"
            "医院拒绝提供完整病历，也不同意做医疗损害鉴定。",
            "在{hospital}住院{k}天，费用清单里有多项没有做过的检查和没有用过的药品，合计{amount}，投诉后没有答复。",
            "亲属在{hospital}抢救无效死亡，医院对诊疗过程的说法前后矛盾，请求卫生健康部门调查。",
        ),
        ("{hospital}",),
        "卫健局",
        who=("居民", "患者家属"),
    ),
    Topic(
        "subsistence_allowance",
        ("民政", "低保救助"),
        5,
        ((_Q, 7), (_C, 2), (_R, 1)),
        ("申请低保被拒", "反映{village}低保评定不公"),
        (
            "本人今年{age}岁，患有{illness}，丧失劳动能力，家庭十分困难，申请低保{k}次都被以名额不够为由拒绝。",
            "{village}的低保名额被村干部亲属占用，真正困难的群众评不上，请求重新评定。",
        ),
        ("{village}村民委员会",),
        "民政局",
    ),
    Topic(
        "land_contract",
        ("农业农村", "土地承包"),
        5,
        ((_Q, 7), (_C, 3)),
        ("承包地被村组收回", "土地流转费用未兑现"),
        (
            "{we}家的{mu}亩承包地在二轮延包时被村民小组收回另行发包，至今没有说法。",
            "{year}年村里把{we}的承包地流转给{company}，约定每亩每年{price}元，已经{k}年没有兑付。",
        ),
        ("{village}村民委员会", "{company}"),
        "农业农村局",
    ),
    Topic(
        "rural_road",
        ("农业农村", "农村道路"),
        3,
        ((_S, 6), (_Q, 4)),
        ("{village}道路破损严重", "建议修建{village}通组公路"),
        (
            "{village}通村公路修好不到{k}年就坑洼不平，雨天无法通行，怀疑施工偷工减料。",
            "{village}{n}户群众出行只有一条土路，下雨后车辆进不来，建议纳入通组公路建设计划。",
        ),
        (),
        "交通运输局",
    ),
    Topic(
        "official_conduct",
        ("纪检监察", "作风问题"),
        4,
        ((_R, 7), (_C, 3)),
        ("反映{town}工作人员办事推诿", "检举工作人员吃拿卡要"),
        (
            "到{town}便民服务中心办理{service}，工作人员{surname}某以各种理由推脱，跑了{k}次都没有办成。",
            "办理{service}时，经办人员{surname}某暗示要好处费，否则就拖着不办。",
        ),
        ("{town}工作人员{surname}某", "经办人员{surname}某"),
        "",
        who=("居民", "{village}村民", "个体工商户"),
    ),
    Topic(
        "prepaid_card",
        ("商贸旅游", "消费维权"),
        3,
        ((_C, 8), (_Q, 2)),
        ("{shop}预付卡商家跑路", "要求{shop}退还预付款"),
        (
            "在{shop}办理预付卡充值{amount}，现在门店突然关门，老板联系不上，涉及会员{n}多人。",
            "{shop}办卡时承诺随时可退，现在以各种理由拒绝退款，剩余金额{amount}。",
        ),
        ("{shop}",),
        "市场监管局",
        who=("居民", "消费者"),
    ),
)

# --- fragments ---------------------------------------------------------------------------------

VILLAGE_HEADS = (
    "杨家", "石桥", "柳树湾", "李家", "王庄", "白沙", "青龙", "马坪", "黄土岭", "新民", "和平", "红星",
    "桃园", "大河", "小河", "双井", "长岭", "东坡", "西沟", "龙潭", "枫林", "高峰", "三合", "建设",
)  # fmt: skip
_COMPANY_HEADS = ("恒达", "宏远", "鑫盛", "华建", "金鼎", "永兴", "瑞丰", "中联", "祥和", "远大", "嘉禾")
_COMPANY_TAILS = ("建筑工程有限公司", "建设集团有限公司", "置业有限公司", "劳务有限公司", "实业有限公司")
_ESTATES = (
    "锦绣花园", "阳光小区", "翠湖苑", "滨江名都", "幸福家园", "金色港湾", "丽景华庭", "东方明珠小区",
    "书香门第", "龙湖御景", "学府雅居", "世纪新城",
)  # fmt: skip
_PROJECTS = ("工业园区", "高速公路连接线", "安置小区", "物流园", "城区道路拓宽", "水库扩建", "高铁站前广场")
_TRADES = ("钢筋工", "木工", "泥瓦工", "架子工", "水电安装", "小工")
_FACILITIES = ("单元门禁", "路灯", "消防设施", "地下车库排水", "二次供水设备")
_SHOPS = ("夜宵烧烤店", "KTV", "健身房", "美容美发店", "培训机构", "便利超市")
_ROADS = ("迎宾大道", "人民路", "解放路", "环城北路", "滨河路", "建设路")
_SCHOOLS = ("实验小学", "第一小学", "第二中学", "中心小学", "城关初级中学")
_HOSPITALS = ("人民医院", "中医院", "妇幼保健院", "第二人民医院")
_SURGERIES = ("阑尾", "胆囊", "腰椎", "膝关节置换", "剖宫产")
_ILLNESSES = ("尿毒症", "脑梗后遗症", "类风湿关节炎", "糖尿病并发症", "精神残疾")
_SERVICES = ("不动产登记", "营业执照变更", "残疾证", "户口迁移", "宅基地审批", "医保报销")
_SURNAMES_SHORT = ("王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "徐", "孙", "马", "胡", "郭")

_OPENINGS_ONE = ("我是{place}{who}，", "本人系{place}{who}，", "我叫{name}，是{place}{who}，")
_OPENINGS_MANY = ("我们是{place}{who}，共{n}人，", "我们{n}人是{place}{who}，现推选代表反映：")
_DEMANDS = (
    "请求有关部门尽快调查处理。",
    "恳请领导高度重视，依法督促解决。",
    "希望政府部门给{we}一个明确的说法。",
    "请求责令相关单位限期整改，并将处理结果告知{we}。",
    "恳请上级部门主持公道，维护{we}的合法权益。",
)
_REPEAT_PREFIX = "此事{we}已于{date}反映过（编号{number}），至今未得到解决，现再次反映：\n"


def pick(r: random.Random, seq: Sequence[T]) -> T:
    """``r.choice(seq)``, a few times faster: one call to the C ``random()`` instead of the
    Python-level ``_randbelow`` loop.  This and ``between`` run millions of times in a big seed."""
    return seq[int(r.random() * len(seq))]


def between(r: random.Random, low: int, high: int) -> int:
    """``r.randint(low, high)``, faster (see ``pick``)."""
    return low + int(r.random() * (high - low + 1))


def _amount(r: random.Random) -> str:
    if r.random() < 0.6:
        return f"{between(r, 2, 95) / 10:g}万元"
    return f"{between(r, 3, 180)}万元"


# How to fill each template slot.  Slots are filled on first use only (see _Slots): a template
# names a handful of the forty, and drawing all of them for every petition would triple the cost.
_SLOT_MAKERS: dict[str, Callable[[_Slots], object]] = {
    "village": lambda s: pick(s.r, VILLAGE_HEADS) + "村",
    "n": lambda s: between(s.r, 3, 60),
    "k": lambda s: between(s.r, 2, 9),
    "year": lambda s: between(s.r, 2012, 2024),
    "year0": lambda s: between(s.r, 1975, 2005),
    "year1": lambda s: between(s.r, 1980, 2012),
    "month": lambda s: between(s.r, 1, 12),
    "months": lambda s: between(s.r, 2, 18),
    "mu": lambda s: between(s.r, 1, 12) + pick(s.r, (0, 0.5)),
    "price": lambda s: between(s.r, 8, 60) * 1000,
    "family": lambda s: between(s.r, 2, 7),
    "amount": lambda s: _amount(s.r),
    "company": lambda s: s.place.county[:2] + pick(s.r, _COMPANY_HEADS) + pick(s.r, _COMPANY_TAILS),
    "project": lambda s: s.place.county[:2] + pick(s.r, _PROJECTS),
    "estate": lambda s: pick(s.r, _ESTATES),
    "trade": lambda s: pick(s.r, _TRADES),
    "facility": lambda s: pick(s.r, _FACILITIES),
    "fee": lambda s: f"{between(s.r, 8, 20) / 10:.1f}",
    "fee2": lambda s: f"{between(s.r, 22, 40) / 10:.1f}",
    "age": lambda s: between(s.r, 55, 82),
    "gap": lambda s: between(s.r, 2, 11),
    "small": lambda s: between(s.r, 150, 900),
    "surname": lambda s: pick(s.r, _SURNAMES_SHORT),
    "sqm": lambda s: between(s.r, 3, 40),
    "floors": lambda s: between(s.r, 3, 6),
    "shop": lambda s: pick(s.r, _SHOPS),
    "road": lambda s: s.place.county[:2] + pick(s.r, _ROADS),
    "hour": lambda s: between(s.r, 1, 3),
    "school": lambda s: s.place.county[:2] + pick(s.r, _SCHOOLS),
    "hospital": lambda s: s.place.county + pick(s.r, _HOSPITALS),
    "surgery": lambda s: pick(s.r, _SURGERIES),
    "illness": lambda s: pick(s.r, _ILLNESSES),
    "service": lambda s: pick(s.r, _SERVICES),
}


class _Slots(dict):
    """Template slots drawn on first use, then kept: one village, one company per petition."""

    def __init__(self, r: random.Random, where: Place, fixed: dict[str, object]) -> None:
        super().__init__(fixed)
        self.r = r
        self.place = where

    def __missing__(self, key: str) -> object:
        value = _SLOT_MAKERS[key](self)
        self[key] = value
        return value


@dataclass(frozen=True)
class Place:
    """Names of a locality, for the words of a petition about it."""

    full: str  # e.g. 青山县柳林镇
    county: str  # e.g. 青山县
    town: str  # e.g. 柳林镇 (the county's seat town for a county-level matter)


def render(
    topic: Topic, r: random.Random, place: Place, *, collective: bool, name: str, headcount: int
) -> tuple[str, str, str]:
    """A title, a content and a subject name for a new petition on ``topic`` about ``place``.

    Draws only from ``r``: seeding it the same way reproduces the same words, which is how a repeat
    petition tells the same story as the original.
    """
    we = "我们" if collective else pick(r, ("我", "我", "我们"))
    slots = _Slots(r, place, {"we": we, "town": place.town, "name": name, "place": place.full})
    if collective:
        slots["n"] = headcount
    slots["who"] = pick(r, topic.who).format_map(slots)
    opening = pick(r, _OPENINGS_MANY if collective else _OPENINGS_ONE).format_map(slots)
    # Two facts now and then make longer letters, as real ones often are.
    if r.random() < 0.4 and len(topic.bodies) > 1:
        first = int(r.random() * len(topic.bodies))
        second = (first + 1 + int(r.random() * (len(topic.bodies) - 1))) % len(topic.bodies)
        body = topic.bodies[first].format_map(slots) + topic.bodies[second].format_map(slots)
    else:
        body = pick(r, topic.bodies).format_map(slots)
    demand = pick(r, _DEMANDS).format_map(slots)
    title = pick(r, topic.titles).format_map(slots)
    subject = pick(r, topic.subjects).format_map(slots) if topic.subjects and r.random() < 0.7 else ""
    return title[:200], f"{opening}{body}\n{demand}", subject[:200]


def repeat_prefix(*, collective: bool, date: str, number: str) -> str:
    """The first line of a repeat petition, pointing at the petition it repeats."""
    return _REPEAT_PREFIX.format(we="我们" if collective else "我", date=date, number=number)
