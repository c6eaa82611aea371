"""Organisation units of the demo city: 综治中心, departments and committees."""

from __future__ import annotations

from typing import Any

from civicgrid.authz.scope import Level

# The city's data-providing departments (the reference counts 63 units): (department_type, name).
CITY_DEPARTMENTS: tuple[tuple[str, str], ...] = (
    ("politics_law", "市委政法委员会"),
    ("police", "市公安局"),
    ("procuratorate", "市人民检察院"),
    ("court", "市中级人民法院"),
    ("justice", "市司法局"),
    ("petition", "市信访局"),
    ("urban_management", "市城市管理局"),
    ("housing", "市住房和城乡建设局"),
    ("health", "市卫生健康委员会"),
    ("civil_affairs", "市民政局"),
    ("emergency_management", "市应急管理局"),
    ("human_resources", "市人力资源和社会保障局"),
    ("education", "市教育局"),
    ("natural_resources", "市自然资源和规划局"),
    ("ecology_environment", "市生态环境局"),
    ("transport", "市交通运输局"),
    ("water", "市水利局"),
    ("agriculture", "市农业农村局"),
    ("market_regulation", "市市场监督管理局"),
    ("fire_rescue", "市消防救援支队"),
    ("development_reform", "市发展和改革委员会"),
    ("economy_it", "市经济和信息化局"),
    ("science_technology", "市科学技术局"),
    ("finance", "市财政局"),
    ("commerce", "市商务局"),
    ("culture_tourism", "市文化和旅游局"),
    ("veterans_affairs", "市退役军人事务局"),
    ("audit", "市审计局"),
    ("state_assets", "市国有资产监督管理委员会"),
    ("statistics", "市统计局"),
    ("medical_security", "市医疗保障局"),
    ("data_resources", "市数据资源管理局"),
    ("government_services", "市政务服务管理局"),
    ("hotline_12345", "市12345政务服务便民热线"),
    ("ethnic_religious", "市民族宗教事务局"),
    ("forestry", "市林业局"),
    ("sports", "市体育局"),
    ("taxation", "国家税务总局蚌埠市税务局"),
    ("meteorology", "市气象局"),
    ("housing_fund", "市住房公积金管理中心"),
    ("women_federation", "市妇女联合会"),
    ("youth_league", "共青团蚌埠市委"),
    ("trade_union", "市总工会"),
    ("disabled_federation", "市残疾人联合会"),
    ("red_cross", "市红十字会"),
    ("propaganda", "市委宣传部"),
    ("cyberspace", "市委网络安全和信息化委员会办公室"),
    ("united_front", "市委统一战线工作部"),
    ("organization", "市委组织部"),
    ("discipline", "市纪律检查委员会"),
    ("state_security", "市国家安全局"),
    ("traffic_police", "市公安局交通警察支队"),
    ("railway_police", "蚌埠铁路公安处"),
    ("power_supply", "国网蚌埠供电公司"),
    ("water_supply", "市自来水公司"),
    ("gas_supply", "市燃气公司"),
    ("telecom", "中国电信蚌埠分公司"),
    ("mobile", "中国移动蚌埠分公司"),
    ("unicom", "中国联通蚌埠分公司"),
    ("post", "中国邮政蚌埠分公司"),
    ("railway", "蚌埠火车站"),
    ("airport_port", "市港航管理中心"),
    ("tobacco", "市烟草专卖局"),
)
# Departments with a branch in every district and county.
BRANCH_TYPES: tuple[tuple[str, str], ...] = (("police", "公安分局"), ("urban_management", "城市管理局"))


def org_unit_rows(divisions: dict[str, tuple[str, Level, dict[str, str | None]]]) -> list[dict[str, Any]]:
    """Rows for `org.service.insert_units` given {code: (name, level, ancestor code columns)}."""
    rows: list[dict[str, Any]] = []

    def columns(codes: dict[str, str | None]) -> dict[str, str | None]:
        return {k: codes[k] for k in ("city_code", "district_code", "street_code", "community_code")}

    for code in sorted(divisions):
        name, level, codes = divisions[code]
        if level in (Level.city, Level.district, Level.street):
            rows.append(
                {
                    "code": f"center-{code}",
                    "name": f"{name}综治中心",
                    "kind": "center",
                    "department_type": None,
                    "division_code": code,
                    **columns(codes),
                }
            )
        if level == Level.city:
            for department_type, department in CITY_DEPARTMENTS:
                rows.append(
                    {
                        "code": f"dept-{code}-{department_type}",
                        "name": department,
                        "kind": "department",
                        "department_type": department_type,
                        "division_code": code,
                        **columns(codes),
                    }
                )
        if level == Level.district:
            for department_type, suffix in BRANCH_TYPES:
                rows.append(
                    {
                        "code": f"dept-{code}-{department_type}",
                        "name": f"{name}{suffix}",
                        "kind": "department",
                        "department_type": department_type,
                        "division_code": code,
                        **columns(codes),
                    }
                )
        if level == Level.community:
            rows.append(
                {
                    "code": f"committee-{code}",
                    "name": name,
                    "kind": "committee",
                    "department_type": None,
                    "division_code": code,
                    **columns(codes),
                }
            )
    return rows
