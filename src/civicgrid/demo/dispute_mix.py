"""The make-up of the demo disputes: which dispute categories end up under each case category, how many
people they involve, the words of summaries, units, agreements and mediation records, and the mediation
methods and organisations by the rung the case reached.

Plausible, not measured: 邻里, 婚姻家庭, 物业 and 劳资 lead as in published 矛盾纠纷排查 statistics; every
one of the 28 categories appears at the default demo scale.
"""

from __future__ import annotations

import numpy as np

# Case category (a leaf of class 01) → dispute categories filed under it, by weight. The first of each is
# the category whose default is that leaf; every one of the 28 appears somewhere.
CATEGORY_MIX: dict[str, dict[str, float]] = {
    "0101": {"04": 62, "14": 9, "05": 7, "25": 5, "06": 3, "22": 3, "21": 2, "17": 1.5, "18": 0.5, "09": 0.5,
             "28": 6.5},
    "0102": {"03": 88, "19": 4, "26": 2, "09": 1.5, "13": 0.5, "28": 4},
    "0103": {"11": 78, "27": 8, "08": 5, "19": 4, "02": 2, "13": 1, "01": 1, "28": 1},
    "0104": {"07": 76, "06": 8, "27": 7, "22": 4, "23": 2, "28": 3},
    "0105": {"12": 60, "14": 14, "20": 8, "15": 5, "01": 3, "16": 3, "23": 2, "02": 2, "10": 2, "24": 1},
}  # fmt: skip
OTHER_MIX: dict[str, float] = {"28": 1}  # a class-01 leaf added later
# Dispute category → (share with a tail of many people, the tail's cap).
CROWDS: dict[str, tuple[float, int]] = {
    "11": (0.22, 400), "12": (0.28, 400), "08": (0.35, 300), "02": (0.4, 150), "01": (0.2, 80),
    "15": (0.3, 120), "16": (0.25, 80), "07": (0.08, 120), "05": (0.1, 60), "24": (0.2, 40),
}  # fmt: skip
SUMMARIES: dict[str, tuple[str, ...]] = {
    "01": ("{p}{n}名群众就历史遗留问题多次信访，要求协调解决。",),
    "02": ("{p}{n}名群众因利益诉求相约聚集，存在群体性上访苗头，需提前化解。",),
    "03": ("{p}一对夫妻因家庭琐事及子女抚养问题多次争吵，请求调解。", "{p}居民因赡养老人问题与兄弟姐妹产生矛盾。",
           "{p}居民因离婚后财产分割发生纠纷。"),
    "04": ("{p}两户邻居因楼上漏水、噪音问题发生争执。", "{p}邻里因公共通道堆放杂物发生口角。",
           "{p}居民因相邻通风采光和违章搭建产生矛盾。"),
    "05": ("{p}居民反映附近商户油烟、噪音扰民，双方协商未果。",),
    "06": ("{p}居民反映施工单位夜间施工扰民并致房屋墙体开裂，要求赔偿。",),
    "07": ("{p}业主与物业公司因物业费收缴和服务质量发生纠纷。", "{p}业主因小区停车位管理与物业发生争执。"),
    "08": ("{p}{n}名原企业职工因改制后社保接续和经济补偿问题反映诉求。",),
    "09": ("{p}当事人对民事判决执行进度不满，要求协调。",),
    "10": ("{p}群众反映村（社区）干部办事推诿，要求说明情况。",),
    "11": ("{p}{n}名务工人员反映被拖欠工资，要求用人单位支付。", "{p}{n}名员工与企业因解除劳动合同补偿发生争议。"),
    "12": ("{p}{n}户群众对征收补偿标准有异议，要求重新评估。", "{p}群众因安置房分配问题与征收部门发生争议。"),
    "13": ("{p}退役军人反映安置待遇落实问题，要求协调。",),
    "14": ("{p}两户居民因宅基地界址发生争执。", "{p}居民因房屋买卖过户问题产生纠纷。"),
    "15": ('{p}{n}名村民对集体资产承包收益分配有异议（农村"三资"）。',),
    "16": ("{p}村民反映一事一议筹资分摊不合理。",),
    "17": ("{p}家长因学生在校受伤赔偿与学校发生纠纷。",),
    "18": ("{p}群众因民族风俗习惯差异产生矛盾，需协调化解。",),
    "19": ("{p}居民因民间借贷到期未还发生纠纷。",),
    "20": ("{p}两组村民因承包地边界和灌溉用水发生争执。",),
    "21": ("{p}患者家属对诊疗结果不满，与医院发生纠纷。",),
    "22": ("{p}居民对公共收益使用和公开情况提出异议。",),
    "23": ("{p}商户对执法部门查扣物品有异议，要求说明并返还。",),
    "24": ("{p}渔民因淮河水域捕捞区域划分发生争执。",),
    "25": ("{p}居民因交通事故赔偿问题协商未果，申请调解。",),
    "26": ("{p}居民反映计划生育奖励扶助政策落实问题。",),
    "27": ("{p}居民与装修公司因装修质量和工程款发生合同纠纷。",),
    "28": ("{p}群众因琐事发生矛盾，需协调化解。",),
}  # fmt: skip
# Dispute category → the unit involved ({t} trade name, {l} line of business, {d} district, {s} street, {c}
# community committee, {h} hospital); it is also the respondent where the dispute is with it.
UNITS: dict[str, str] = {
    "06": "安徽{t}建筑工程有限公司", "07": "蚌埠{t}物业管理有限公司", "08": "蚌埠市{t}{l}有限公司",
    "11": "蚌埠市{t}{l}有限公司", "12": "{d}房屋征收与补偿服务中心", "15": "{c}", "17": "{s}中心学校",
    "21": "{h}", "22": "{c}", "23": "{d}城市管理行政执法局", "27": "蚌埠{t}装饰工程有限公司",
}  # fmt: skip
UNIT_SHARE = 0.8
AGREEMENTS: dict[str, str] = {
    "03": "双方互谅互让，约定每月支付抚养（赡养）费{s}元", "04": "责任方负责维修并赔偿损失{m}元，双方互不追究",
    "07": "业主按期缴纳物业费，物业公司{k}日内整改服务问题", "11": "用人单位于{k}日内一次性支付拖欠工资共计{m}元",
    "08": "企业于{k}日内补缴社会保险并支付经济补偿{m}元", "12": "按评估结果补偿并发放过渡安置费，当事人签订补偿协议",
    "14": "双方按原界址确定边界，由村（居）委会现场勘定", "20": "双方按原界址确定边界，由村（居）委会现场勘定",
    "19": "被申请人分{k}期归还借款共计{m}元", "27": "被申请人{k}日内返工修复并退还工程款{m}元",
}  # fmt: skip
PAYMENT = "责任方一次性赔偿{m}元，双方不再追究"
DEFAULT_AGREEMENT = "双方各让一步，达成和解，互不追究"
PAYING = ("05", "06", "17", "21", "25")
PARTIAL = "就部分事项达成一致：{a}；其余争议待进一步协调"
FAILED = "经多次调解双方未能达成一致，已告知当事人通过仲裁或诉讼途径解决。"
NOT_TAKEN = "经核实不属于调解受理范围，已引导当事人通过其他途径解决。"
RESULTS = {
    "agreed": "经耐心调解，双方达成一致意见，当场签订调解协议。",
    "partly": "双方就部分事项达成一致，其余事项待进一步协调。",
    "again": "听取双方陈述，释法明理，双方分歧仍较大，约定再次调解。",
    "failed": "双方坚持各自主张，调解未能达成一致。",
}
EVALUATIONS = ("当事人对调解结果表示满意。", "调解程序规范，协议内容合法有效。", "双方对调解工作表示认可。")
FOLLOW_UPS = (
    "回访当事人，协议已履行，双方关系缓和。",
    "回访确认款项已支付到位，未再发生矛盾。",
    "电话回访，当事人表示满意。",
)
# Rung the case reached (0 grid … 4 city, grouped 0–1, 2, 3–4) → mediation method weights.
METHODS = ("people", "administrative", "judicial", "litigation", "police", "petition", "lawyer", "other")
METHOD_MIX = np.array(
    [
        [82, 5, 0, 0, 6, 0, 4, 3],
        [50, 20, 0, 0, 12, 8, 5, 5],
        [20, 20, 12, 18, 0, 15, 10, 5],
    ],
    dtype=float,
)
ORGANISATIONS = {
    "administrative": "{s}司法所", "judicial": "{d}人民法院", "litigation": "{d}人民法院诉调对接中心",
    "police": "{s}派出所警调对接室", "petition": "{d}信访局访调对接工作室", "lawyer": "{d}律师调解工作室",
    "other": "{s}综治中心",
}  # fmt: skip
RUNG = {"grid": 0, "community": 0, "street": 1, "district": 2, "city": 2}
EDUCATION = (("10", 2), ("20", 12), ("30", 14), ("40", 6), ("50", 4), ("60", 20), ("70", 28), ("80", 11), ("90", 3))
