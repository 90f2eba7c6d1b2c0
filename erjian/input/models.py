"""Typed models of the site's input, and the schemas that validate raw YAML into them.

Domain vocabularies (specialties, login methods, region levels, authority roles) live here
too: they are part of what the data may say, not of how it is shown.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

from erjian.core.limits import CALENDAR_YEARS, MAX_RELEASE_WORKING_DAYS, MAX_REVIEW_WORKING_DAYS
from erjian.input.schema import (SLUG_PATTERN, SLUG_RULE, Boolean, Choice, Context, Date, Domain,
                                 Integer,
                     ListOf, Record, Schema, Slug, Text, Url, Year)
from erjian.input.base_url import normalise_base_url


@dataclass(frozen=True)
class Specialty:
    code: str
    name: str
    practice_subject: str


SPECIALTIES: dict[str, Specialty] = {s.code: s for s in (
    Specialty("jianzhu", "建筑工程", "建筑工程管理与实务"),
    Specialty("shizheng", "市政公用工程", "市政公用工程管理与实务"),
    Specialty("jidian", "机电工程", "机电工程管理与实务"),
    Specialty("gonglu", "公路工程", "公路工程管理与实务"),
    Specialty("shuili", "水利水电工程", "水利水电工程管理与实务"),
    Specialty("kuangye", "矿业工程", "矿业工程管理与实务"),
)}
COMMON_SUBJECTS = ("建设工程施工管理", "建设工程法规及相关知识")

LOGIN_METHODS = {
    "account_password": "报名时注册的用户名（或手机号）和密码",
    "id_name": "身份证号和姓名",
    "admit_card_id": "准考证号（或档案号）和身份证号",
    "sms_code": "发到报名手机号上的短信验证码",
}

LEVELS = {
    "prefecture": "地区/自治州/盟",
    "prefecture_city": "地级市",
    "municipal_district": "直辖市辖区",
    "district": "市辖区",
    "county": "县/县级市/旗",
}

AUTHORITY_ROLES = {
    "scores": "发布成绩、提供查询",
    "exam": "发布考试通知",
    "construction": "住房和城乡建设主管部门（资格审核、证书、注册）",
    "local": "本地人事考试机构（协助查准考证号等）",
}

SITTINGS = {"main": "年度考试", "autumn": "秋季加考"}

NOTICE_KINDS = {
    "release": "成绩发布",
    "exam": "考试安排",
    "review": "成绩复核",
    "audit": "考后资格审核",
    "certificate": "证书发放",
    "general": "其他通知",
}

DEFAULT_MIN_WORKING_DAYS = 42
DEFAULT_MAX_WORKING_DAYS = 63
DEFAULT_REVIEW_WORKING_DAYS = 5


# --- shared records -------------------------------------------------------------------------

@dataclass(frozen=True)
class Source:
    title: str
    document: Optional[str] = None
    published: Optional[dt.date] = None
    url: Optional[str] = None
    kind: Optional[str] = None


SOURCE_KINDS = {
    "publication": "the issuer's own publication",
    "report": "a news report or reprint of it, not the issuer's own text (pages say 据报道)",
}

SOURCE = Schema("source", {
    "title": Text("Title of the notice or page the fact comes from.", required=True),
    "document": Text("Document number, e.g. 国办发明电〔2025〕7号."),
    "published": Date("Date the source was issued."),
    "url": Url("Address of the source."),
    "kind": Choice(SOURCE_KINDS, "What the source is; 'report' when the issuer's own "
                   "publication was not seen. Pages label a report as such."),
}, build=lambda v: Source(**v), help="Where a fact comes from.")


@dataclass(frozen=True)
class NoticePage:
    """A page listing an authority's notices, watched by ``python build.py harvest``."""

    url: str
    list_selector: Optional[str] = None
    body_selector: Optional[str] = None


NOTICE_PAGE = Schema("notice page", {
    "url": Url("Address of the list of notices (or the home page where they are listed).",
               required=True, policy=False),  # official: harvest applies the stricter policy
    "list_selector": Text("CSS selector of the notice links on the list page, where the "
                          "default (every link whose text names the exam) does not fit.",
                          max_length=200),
    "body_selector": Text("CSS selector of a notice's text on its own page, where the "
                          "default (the whole page) does not fit.", max_length=200),
}, build=lambda v: NoticePage(**v), help="A list of notices to watch.")


@dataclass(frozen=True)
class Authority:
    name: str
    url: str
    role: str
    verified: Optional[dt.date] = None
    note: Optional[str] = None
    notices: tuple = ()


AUTHORITY = Schema("authority", {
    "name": Text("Official name of the body.", required=True),
    "url": Url("Official address; type it from the body's own site, never from a search ad.",
               required=True, policy=False),  # official: resolve._check_links
    "role": Choice(AUTHORITY_ROLES, "What readers go there for.", required=True),
    "verified": Date("Date an editor last opened the link and checked it is the official site. "
                     "Leave out if nobody has; the page then says the link is unverified."),
    "note": Text("Short note shown under the link.", multiline=True),
    "notices": ListOf(Record(NOTICE_PAGE), "Pages listing the body's notices, watched by "
                      "`python build.py harvest`.", default=list),
}, build=lambda v: Authority(**{**v, "notices": tuple(v["notices"])}),
   help="An official place to look.")


@dataclass(frozen=True)
class ExamBody:
    """A body other than the province that may run the exam for some of its regions (the
    新疆生产建设兵团 in Xinjiang). Until ``source`` settles who sits which exam, the pages of
    those regions list both bodies' places and assert neither arrangement."""

    slug: str
    name: str
    regions: tuple
    depends_on: str
    authorities: tuple = ()
    source: Optional[Source] = None


EXAM_BODY = Schema("exam body", {
    "slug": Slug("Identifier of the body within its province, e.g. bingtuan.", required=True),
    "name": Text("Official name, e.g. 新疆生产建设兵团.", required=True, max_length=40),
    "regions": ListOf(Slug(), "Slugs (page addresses) of the province's regions whose "
                      "candidates may sit this body's exam instead of the province's.",
                      required=True, min_items=1, unique=True),
    "depends_on": Text("One sentence, shown on those regions' pages: what decides which exam "
                       "a candidate sits, as far as known, e.g. 取决于工作单位属于兵团还是地方.",
                       required=True, max_length=200),
    "authorities": ListOf(Record(AUTHORITY), "The body's official places, most important "
                          "first; checked like a province's.", default=list),
    "source": Record(SOURCE, "The official document that says who sits which exam. Leave out "
                     "while none has been checked: the pages then say so."),
}, build=lambda v: ExamBody(**{**v, "regions": tuple(v["regions"]),
                               "authorities": tuple(v["authorities"])}),
   help="Another body that may run the exam for some of the province's regions.")


@dataclass(frozen=True)
class StageKind:
    name: str     # as a page names the stage
    short: str    # at most four characters, for the timeline's row labels
    usual: str    # the usual timing, shown when a year's date is not recorded


# The stages of one exam cycle, in the order a candidate meets them. ``usual`` is relative to
# the stage before; it is the editors' experience of past years, not a source, so pages label
# it as such. "exam", "release" and "review" are always dated: the exam by its days, the
# release and review by the estimate until a notice or a recorded date replaces it.
STAGES: dict[str, StageKind] = {
    "registration": StageKind("报名", "报名", "往年一般在考试前两到三个月开放网上报名，"
                              "报名期约一到两周"),
    "admit_card": StageKind("打印准考证", "准考证", "往年一般在考试前一周左右开放打印，"
                            "考前几天截止"),
    "exam": StageKind("考试", "考试", "往年通常在5月下旬或6月上旬的周末举行"),
    "release": StageKind("成绩发布", "成绩发布", "考试结束后两到三个月，按工作日推算"),
    "pass_marks": StageKind("公布合格标准", "合格标准", "往年多与成绩同时公布，或在成绩公布后"
                            "几天内公布"),
    "review": StageKind("成绩复核申请", "复核申请", "成绩公布后的几个工作日内，以当年通知为准"),
    "audit": StageKind("考后资格审核", "资格审核", "往年多在成绩公布后一到两个月内发布审核通知，"
                       "审核期约一到两周"),
    "certificate": StageKind("证书发放", "证书", "往年多在审核结束后几个月内发放；电子证书"
                             "常早于纸质证书"),
}
# Stages an exam entry may record itself (the exam has its days, the release its notice).
RECORDED_STAGES = ("registration", "admit_card", "pass_marks", "review", "audit",
                   "certificate")
BEFORE_EXAM = ("registration", "admit_card")


@dataclass(frozen=True)
class StageDates:
    """A recorded stage of one exam cycle: from ``first`` to ``last`` (one day when equal)."""

    first: dt.date
    last: dt.date
    confirmed: bool = False
    source: Optional[Source] = None
    note: Optional[str] = None
    evidence: Optional[str] = None


def _check_stage(values, ctx: Context, data):
    if values["last"] is not None and values["last"] < values["first"]:
        ctx.error(data.line_of("last"), "last", "'last' is before 'first'",
                  "give the first and the last day of the period, in that order")
    _check_confirmed(values, ctx, data)


def _check_confirmed(values, ctx: Context, data):
    """Pages drop the 未核实 label of a confirmed date, so it must name the notice it comes
    from (exams and their stages alike)."""
    if values["confirmed"] and values["source"] is None:
        ctx.error(data.line_of("confirmed"), "confirmed",
                  "a confirmed date needs its source",
                  "add 'source' with the title and address of the official notice, or set "
                  "'confirmed: false'")


STAGE = Schema("stage", {
    "first": Date("First day (the only day, for a one-day event such as the pass marks).",
                  required=True),
    "last": Date("Last day of the period; leave out for a one-day event."),
    "confirmed": Boolean("True once an official notice gives these dates (then 'source' is "
                         "required); pages label an unconfirmed date as such.", default=False),
    "source": Record(SOURCE, "The official notice that gives the dates."),
    "evidence": Text("The notice's sentence the dates were read from (written by `python "
                     "build.py harvest`; for the reviewer, not shown on pages).",
                     multiline=True),
    "note": Text("Short note shown with the stage, e.g. the pass marks themselves or where "
                 "the audit takes place.", multiline=True),
}, build=lambda v: StageDates(**{**v, "last": v["last"] or v["first"]}),
   cross_check=_check_stage, help="The dates of one stage of the exam cycle.")


@dataclass(frozen=True)
class Exam:
    year: int
    days: tuple[dt.date, ...]
    sitting: str = "main"
    confirmed: bool = False
    source: Optional[Source] = None
    note: Optional[str] = None
    evidence: Optional[str] = None
    registration: Optional[StageDates] = None
    admit_card: Optional[StageDates] = None
    pass_marks: Optional[StageDates] = None
    review: Optional[StageDates] = None
    audit: Optional[StageDates] = None
    certificate: Optional[StageDates] = None

    def stage(self, key: str) -> Optional[StageDates]:
        """The recorded dates of a stage in RECORDED_STAGES, or None."""
        return getattr(self, key)

    @property
    def first_day(self) -> dt.date:
        return self.days[0]

    @property
    def last_day(self) -> dt.date:
        return self.days[-1]

    @property
    def key(self) -> tuple[int, str]:
        return (self.year, self.sitting)


def _check_exam(values, ctx: Context, data):
    _check_confirmed(values, ctx, data)
    days = values["days"]
    if list(days) != sorted(set(days)):
        ctx.error(data.line_of("days"), "days", "exam days must be distinct and in date order")
    elif any(day.year != values["year"] for day in days):
        ctx.error(data.line_of("days"), "days",
                  f"exam days are not all in {values['year']}", "check 'year' and 'days'")
    elif (days[-1] - days[0]).days > 7:
        ctx.error(data.line_of("days"), "days", "exam days span more than a week",
                  "list only the days of one sitting; add a second entry for another sitting")
    else:
        _check_stage_order(values, ctx, data)


def _check_stage_order(values, ctx: Context, data):
    """Stages before the exam end before it starts; stages after it start after it ends and
    within two years (a review or certificate of 2026's exam may fall in 2027)."""
    first, last = values["days"][0], values["days"][-1]
    for key in RECORDED_STAGES:
        stage = values.get(key)
        if stage is None:
            continue
        name = STAGES[key].name
        if key in BEFORE_EXAM and stage.last > last:
            ctx.error(data.line_of(key), key, f"{name} ({key}) ends after the exam",
                      f"the exam is {first.isoformat()}–{last.isoformat()}; check the year "
                      "and the dates")
        elif key not in BEFORE_EXAM and stage.first <= last:
            ctx.error(data.line_of(key), key, f"{name} ({key}) starts before the exam is over",
                      f"the exam ends {last.isoformat()}; check the year and the dates")
        elif key not in BEFORE_EXAM and stage.last.year > values["year"] + 2:
            ctx.error(data.line_of(key), key,
                      f"{name} ({key}) ends more than two years after the exam",
                      "check the year")
        elif key in BEFORE_EXAM and stage.first.year < values["year"] - 1:
            ctx.error(data.line_of(key), key,
                      f"{name} ({key}) starts more than a year before the exam",
                      "check the year")


EXAM = Schema("exam", {
    "year": Year("Exam year.", required=True, minimum=2000),
    "days": ListOf(Date(), "The exam days, in order.", required=True, min_items=1, max_items=4),
    "sitting": Choice(SITTINGS, "Which sitting of the year.", default="main"),
    "confirmed": Boolean("True once the province's exam notice confirms the days (then "
                         "'source' is required); pages label an unconfirmed exam as such.",
                         default=False),
    "source": Record(SOURCE, "The notice that sets the days."),
    "evidence": Text("The notice's sentence the days were read from (written by `python "
                     "build.py harvest`; for the reviewer, not shown on pages).",
                     multiline=True),
    "note": Text("Short note shown with the exam.", multiline=True),
    **{key: Record(STAGE, f"{STAGES[key].name}: dates as an official notice gives them. "
                   f"Unrecorded, pages give the usual timing ({STAGES[key].usual}), labelled.")
       for key in RECORDED_STAGES},
}, build=lambda v: Exam(**{**v, "days": tuple(v["days"])}), cross_check=_check_exam,
   help="One exam sitting.")


@dataclass(frozen=True)
class Estimate:
    min_working_days: int = DEFAULT_MIN_WORKING_DAYS
    max_working_days: int = DEFAULT_MAX_WORKING_DAYS
    review_working_days: int = DEFAULT_REVIEW_WORKING_DAYS
    basis: Optional[str] = None
    from_history: bool = False


def _check_estimate(values, ctx, data):
    if values["min_working_days"] > values["max_working_days"]:
        ctx.error(data.line_of("min_working_days"), "min_working_days",
                  "min_working_days is larger than max_working_days")


ESTIMATE = Schema("estimate", {
    "min_working_days": Integer("Working days from the last exam day to the earliest "
                                "expected release.", minimum=10,
                                maximum=MAX_RELEASE_WORKING_DAYS,
                                default=DEFAULT_MIN_WORKING_DAYS),
    "max_working_days": Integer("Working days to the latest expected release.",
                                minimum=10, maximum=MAX_RELEASE_WORKING_DAYS,
                                default=DEFAULT_MAX_WORKING_DAYS),
    "review_working_days": Integer("Working days after the release during which a score "
                                   "review (复核) can be requested.", minimum=1,
                                   maximum=MAX_REVIEW_WORKING_DAYS,
                                   default=DEFAULT_REVIEW_WORKING_DAYS),
    "basis": Text("Why these numbers differ from the default (shown on the methodology page); "
                  "required in a region whose window differs from its province's, and shown "
                  "on that region's pages.",
                  multiline=True),
    "from_history": Boolean("True to take the release window from the province's own record "
                            "instead of min/max_working_days: the smallest and largest "
                            "recorded span (working days from an exam's last day to its "
                            "real release, one per past exam with a 'kind: release' notice) "
                            "widened by 5 working days each side. Needs at least 3 recorded "
                            "years; with fewer the build stops with an error.",
                            default=False),
}, build=lambda v: Estimate(**v), cross_check=_check_estimate,
   help="Parameters of the release estimate.")


@dataclass(frozen=True)
class LocalOffice:
    name: str
    phone: Optional[str] = None
    address: Optional[str] = None
    url: Optional[str] = None


LOCAL_OFFICE = Schema("local_office", {
    "name": Text("Name of the local personnel-exam office.", required=True),
    "phone": Text("Public phone number.", max_length=40),
    "address": Text("Street address."),
    "url": Url("Official address.", policy=False),  # official: resolve._check_links
}, build=lambda v: LocalOffice(**v), help="The local office that helps with admit cards.")


# --- province and region --------------------------------------------------------------------

def _inheritable_fields() -> dict:
    """Fields a province sets and a region may override (each a fresh Field instance)."""
    return {
        "authorities": ListOf(Record(AUTHORITY), "Official places to look, most important "
                              "first."),
        "login_methods": ListOf(Choice(LOGIN_METHODS), "How the score query lets candidates "
                                "log in.", unique=True),
        "specialties": ListOf(Choice({k: s.name for k, s in SPECIALTIES.items()}),
                              "Specialties examined here.", unique=True),
        "calendar_layers": ListOf(Slug(), "Regional holiday layers added to the national "
                                  "calendar (folder names under calendars/).", unique=True),
        "estimate": Record(ESTIMATE, "Parameters of the release estimate."),
        "exams": ListOf(Record(EXAM), "Exam sittings, any order."),
        "local_office": Record(LOCAL_OFFICE, "Office that helps with lost admit-card numbers."),
        "post_exam_audit": Boolean("True if passing candidates must attend a post-exam "
                                   "qualification audit (考后资格审核)."),
        "note": Text("A short paragraph shown near the top of every guide page.",
                     multiline=True),
    }


INHERITABLE = tuple(_inheritable_fields())


@dataclass(frozen=True)
class Province:
    slug: str
    name: str
    short_name: str
    authorities: tuple = ()
    login_methods: tuple = ()
    specialties: tuple = ()
    calendar_layers: tuple = ()
    estimate: Estimate = field(default_factory=Estimate)
    exams: tuple = ()
    local_office: Optional[LocalOffice] = None
    post_exam_audit: Optional[bool] = None
    note: Optional[str] = None
    file: str = ""
    code: Optional[str] = None
    exam_bodies: tuple = ()


CODE_HINT = "six digits, as in GB/T 2260, e.g. '654200'"

PROVINCE = Schema("province", {
    "name": Text("Full official name, e.g. 新疆维吾尔自治区.", required=True, max_length=40),
    "code": Text("GB/T 2260 code, e.g. '650000'.", pattern=r"\d{2}0000",
                 pattern_hint=CODE_HINT),
    "short_name": Text("Short name used in running text, e.g. 新疆.", required=True,
                       max_length=10),
    "slug": Slug("URL segment; defaults to the folder name."),
    **_inheritable_fields(),
    "exam_bodies": ListOf(Record(EXAM_BODY), "Other bodies that may run the exam for some of "
                          "the province's regions; their pages list both bodies' places.",
                          default=list),
}, help="A province-level division: regions/<slug>/province.yaml.")


class FieldLines:
    """A record that keeps the line of each of its fields from validation, so that a problem
    found later (resolving, planning) names the line: ``record.line_of(field)``, the one way
    to ask a model for a field's line."""

    __slots__ = ()
    field_lines: tuple   # (field, line) pairs

    def line_of(self, field: str) -> int | None:
        return dict(self.field_lines).get(field)


@dataclass(frozen=True)
class RegionFile(FieldLines):
    """A region as written: what it sets itself; None means 'inherit'."""

    name: str
    level: str
    province: str
    slug: Optional[str]
    parent: Optional[str]
    overrides: dict
    file: str
    field_lines: tuple      # (field, line) pairs, see FieldLines
    code: Optional[str] = None
    pinyin: Optional[str] = None
    division: bool = True   # False: a region that is no administrative division
    division_slug: Optional[str] = None   # the generated division's slug: its published address


REGION = Schema("region", {
    "name": Text("Full name, e.g. 塔城地区.", required=True, max_length=40, padded=False),
    "code": Text("GB/T 2260 code. A file with the code (or the name) of a generated division "
                 "overrides that division.", pattern=r"\d{6}", pattern_hint=CODE_HINT),
    "level": Choice(LEVELS, "Administrative level.", required=True),
    "province": Slug("Province slug; defaults to the folder the file is in."),
    "slug": Slug("URL segment; derived from the name in pinyin when left out "
                 "(松江区 → songjiang)."),
    "parent": Slug("Slug of a region of the same province to inherit from before the "
                   "province (e.g. a county under its city)."),
    "division": Boolean("false for a region that is no administrative division (no "
                        "generated division has its code or name); every other region file "
                        "must match a division of its province.", default=True),
    **_inheritable_fields(),
}, help="A city, prefecture or district: regions/<province>/<name>.yaml.")


DIVISION = Schema("division", {
    "code": Text("GB/T 2260 code.", required=True, pattern=r"\d{6}", pattern_hint=CODE_HINT),
    "name": Text("Official name.", required=True, max_length=40),
    "level": Choice(LEVELS, "Administrative level.", required=True),
    "slug": Slug("URL segment, assigned once and kept.", required=True),
    "parent": Slug("Slug of the prefecture-level division it belongs to."),
    "pinyin": Text("Pinyin forms of the name for the search filter (full and initials, of "
                   "the name and of the name without its suffix), worked out at import.",
                   pattern=r"[a-z0-9 ]+", pattern_hint="lowercase latin letters and spaces"),
}, help="One generated division.")

DIVISIONS_FILE = Schema("divisions file", {
    "dataset": Record(Schema("dataset", {
        "package": Text("Package the data comes from.", required=True),
        "version": Text("Its version.", required=True),
        "licence": Text("Its licence.", required=True),
    }), "Where the divisions come from.", required=True),
    "divisions": ListOf(Record(DIVISION), "The divisions.", required=True),
}, help="Generated: regions/<province>/_divisions.yaml (python build.py import-divisions).")


@dataclass(frozen=True)
class Notice(FieldLines):
    slug: str
    title: str
    date: dt.date
    kind: str
    provinces: tuple
    regions: tuple
    exam_year: Optional[int]
    sitting: str
    release_date: Optional[dt.date]
    source: Optional[Source]
    summary: Optional[str]
    body: str
    file: str
    line: int
    field_lines: tuple = ()   # (field, line) pairs of the front matter, see FieldLines


def _check_notice(values, ctx, data):
    if not values["provinces"] and not values["regions"]:
        ctx.error(data.line, "provinces", "a notice must name at least one province or region",
                  "add 'provinces: [xinjiang]' or 'regions: [xinjiang/tacheng]'")
    if values["release_date"] and values["kind"] != "release":
        ctx.error(data.line_of("release_date"), "release_date",
                  "only a notice of kind 'release' can carry a release_date")
    if values["kind"] == "release":
        _check_release_notice(values, ctx, data)


def _check_release_notice(values, ctx, data):
    """A release notice confirms a date on every page it names, so it must carry the date,
    the exam it is for and the official notice that says so."""
    if not values["release_date"]:
        ctx.error(data.line_of("kind"), "release_date",
                  "a release notice must give the release_date the official notice states",
                  "add 'release_date: YYYY-MM-DD'; a notice that only says scores will come "
                  "soon is kind 'general'")
    elif not values["exam_year"]:
        ctx.error(data.line_of("release_date"), "exam_year",
                  "a release notice with a release_date must say which exam_year it is for")
    source = values["source"]
    if source is None or not source.url:
        ctx.error(data.line_of("source") if source else data.line_of("kind"), "source.url",
                  "a release notice must name the official notice it reports: source.title "
                  "and source.url", "copy the notice's title and its https:// address")


NOTICE = Schema("notice", {
    "title": Text("Headline.", required=True, max_length=120),
    "date": Date("Date the notice was issued.", required=True),
    "kind": Choice(NOTICE_KINDS, "What the notice is about.", required=True),
    "provinces": ListOf(Slug(), "Province slugs it applies to (all their regions).",
                        default=list, unique=True),
    "regions": ListOf(Text(pattern=r"[a-z0-9-]+/[a-z0-9-]+",
                           pattern_hint="write province/region, e.g. xinjiang/tacheng"),
                      "Regions it applies to, as province/region.", default=list, unique=True),
    "exam_year": Year("Exam year it concerns.", minimum=2000),
    "sitting": Choice(SITTINGS, "Sitting it concerns.", default="main"),
    "release_date": Date("For kind 'release': the date scores are (or were) released. This "
                         "replaces the estimate for every region the notice names."),
    "source": Record(SOURCE, "The official notice this summarises."),
    "summary": Text("One sentence for lists.", max_length=200),
    "slug": Slug("URL segment; defaults to the file name."),
}, cross_check=_check_notice, help="A notice: content/notices/<slug>.md front matter.")


# --- moved addresses: divisions/moved/<province>.tsv ---------------------------------------

MOVED_DIR = ("divisions", "moved")
MOVED_COLUMNS = ("old", "new", "reason", "old_name", "new_name", "recorded")
REASONS = ("renamed", "city", "district", "recoded", "reading", "unknown",
           "address")   # address: an editor changed the slug (python build.py move)


def moved_path(root: Path, province: str) -> Path:
    return Path(root).joinpath(*MOVED_DIR, f"{province}.tsv")


@dataclass(frozen=True)
class Moved:
    """An old address and where it points now."""
    old: str
    new: str
    reason: str
    old_name: str
    new_name: str
    recorded: str
    line: int = 0


MOVED_HINT = "the file is generated: run `python build.py import-divisions` again"
ADDRESS_RULE = f"an address is '<province>/<slug>/' with a slug of {SLUG_RULE}"


def _address(help: str) -> Text:
    return Text(help, required=True, max_length=130,
                pattern=rf"{SLUG_PATTERN}/{SLUG_PATTERN}/",
                pattern_hint=f"{ADDRESS_RULE}, e.g. 'anhui/bengshan/'; {MOVED_HINT}")


MOVED = Schema("moved address", {
    "old": _address("The old address: '<province>/<slug>/'."),
    "new": _address("The address it redirects to, a page of the same province."),
    "reason": Choice(dict.fromkeys(REASONS, ""), "Why the address moved.", required=True),
    "old_name": Text("The division's name at the old address.", required=True, max_length=40),
    "new_name": Text("The name at the new address.", required=True, max_length=40),
    "recorded": Text("The data the move was recorded from.", required=True, max_length=100),
}, help="One line of divisions/moved/<province>.tsv (tab-separated, generated).")


DATASET = Schema("division data", {
    "package": Text("The npm package the divisions come from.", required=True, max_length=100),
    "version": Text("Its version.", required=True, max_length=40),
    "licence": Text("Its licence.", required=True, max_length=100),
    "date": Text("The date of its data.", required=True, pattern=r"\d{4}-\d{2}-\d{2}",
                 pattern_hint="YYYY-MM-DD; " + MOVED_HINT),
    "source": Text("Who publishes the data.", required=True, max_length=100),
}, help="Generated: divisions/dataset.json, named on the methodology page.")


# --- calendars ------------------------------------------------------------------------------

@dataclass(frozen=True)
class HolidaySpan:
    name: str
    first_day_off: dt.date
    last_day_off: dt.date
    working_weekends: tuple
    source: Optional[Source] = None


def _check_span(values, ctx, data):
    if values["first_day_off"] > values["last_day_off"]:
        ctx.error(data.line_of("last_day_off"), "last_day_off",
                  "last_day_off is before first_day_off")
    for day in values["working_weekends"]:
        if day.weekday() < 5:
            ctx.error(data.line_of("working_weekends"), "working_weekends",
                      f"{day.isoformat()} is a weekday, so it cannot be a weekend made working "
                      "day", "list only the Saturdays and Sundays that become working days")


HOLIDAY = Schema("holiday", {
    "name": Text("Holiday name, e.g. 春节.", required=True, max_length=30),
    "first_day_off": Date("First day off.", required=True),
    "last_day_off": Date("Last day off (inclusive).", required=True),
    "working_weekends": ListOf(Date(), "Weekend days made working days (调休).", default=list,
                               unique=True),
    "source": Record(SOURCE, "Source when it differs from the file's (an amendment)."),
}, build=lambda v: HolidaySpan(**{**v, "working_weekends": tuple(v["working_weekends"])}),
   cross_check=_check_span, help="One holiday of a year's arrangement.")


# The holidays of 《全国年节及纪念日放假办法》 that give everyone days off: a year of a
# calendar with 'china_statutory' projection lists each (erjian.input.validate checks it).
STATUTORY_HOLIDAYS = ("元旦", "春节", "清明节", "劳动节", "端午节", "中秋节", "国庆节")


@dataclass(frozen=True)
class OmittedHoliday:
    holiday: str
    why: str


OMITTED_HOLIDAY = Schema("omitted holiday", {
    "holiday": Choice(dict.fromkeys(STATUTORY_HOLIDAYS, ""), "The statutory holiday left out.",
                      required=True),
    "why": Text("Why the file does not list it (shown to nobody but editors).",
                required=True, max_length=200),
}, build=lambda v: OmittedHoliday(**v), help="A statutory holiday a year's file leaves out.")


@dataclass(frozen=True)
class CalendarYear:
    layer: str
    year: int
    source: Optional[Source]
    holidays: tuple
    verified: bool = True
    projected: bool = False
    file: str = ""
    omitted: tuple = ()


def _check_year(values, ctx, data):
    for span in values["holidays"]:
        for day in (span.first_day_off, span.last_day_off, *span.working_weekends):
            if abs(day.year - values["year"]) > 1:
                ctx.error(data.line_of("holidays"), "holidays",
                          f"{span.name}: {day.isoformat()} is far from {values['year']}")
    listed = {name for span in values["holidays"] for name in holidays_named(span.name)}
    for index, omitted in enumerate(values["omitted"]):
        if omitted.holiday in listed:
            ctx.error(data["omitted"].line_of(index), f"omitted[{index + 1}].holiday",
                      f"{omitted.holiday} is listed under holidays, so it is not omitted",
                      "remove it from 'omitted'")
        listed.add(omitted.holiday)   # a second entry for it is refused as listed


def holidays_named(name: str) -> set[str]:
    """The holidays a span's name stands for: '中秋节、国庆节' for two merged ones, '春节' for
    '春节（农历除夕）'."""
    return {part.split("（")[0].strip() for part in name.split("、")}


CALENDAR_YEAR = Schema("calendar year", {
    "year": Year("The year.", required=True),
    "source": Record(SOURCE, "The official arrangement notice.", required=True),
    "verified": Boolean("False if the dates were not checked against the notice itself.",
                        default=True),
    "holidays": ListOf(Record(HOLIDAY), "The year's holidays.", required=True),
    "omitted": ListOf(Record(OMITTED_HOLIDAY),
                      "National calendar only: statutory holidays (元旦, 春节, 清明节, 劳动节, "
                      "端午节, 中秋节, 国庆节) the file leaves out, each with why. Every other "
                      "statutory holiday must be listed under 'holidays' (a merged span names "
                      "both, e.g. 中秋节、国庆节).", default=list),
}, cross_check=_check_year, help="One year of a calendar layer: calendars/<layer>/<year>.yaml.")


@dataclass(frozen=True)
class IslamicRule:
    name: str
    hijri_month: int
    hijri_day: int
    days_off: int


ISLAMIC_RULE = Schema("projection rule", {
    "name": Text("Holiday name.", required=True, max_length=30),
    "hijri_month": Integer("Month of the Hijri calendar.", required=True, minimum=1,
                           maximum=12),
    "hijri_day": Integer("Day of that month (not every month has a 30th).", required=True,
                         minimum=1, maximum=29),
    "days_off": Integer("Statutory days off.", required=True, minimum=1, maximum=10),
}, build=lambda v: IslamicRule(**v), help="How to project a holiday in a year with no notice.")


@dataclass(frozen=True)
class NoticeSearch:
    """Where the body that sets a layer's arrangements lists them (a search of its library)."""

    url: str
    query: str
    list_selector: Optional[str] = None
    body_selector: Optional[str] = None


NOTICE_SEARCH = Schema("notice search", {
    "url": Url("Address of the search, up to the query (the query is appended, encoded).",
               required=True, policy=False),  # official: harvest checks the link policy
    "query": Text("Words searched for, e.g. 部分节假日安排的通知.", required=True,
                  max_length=60),
    "list_selector": Text("CSS selector of the result links, where the default (every link "
                          "whose text contains the query's first words) does not fit.",
                          max_length=200),
    "body_selector": Text("CSS selector of a notice's text on its own page.", max_length=200),
}, build=lambda v: NoticeSearch(**v), help="Where `python build.py harvest` looks for a "
   "layer's new arrangements.")


@dataclass(frozen=True)
class Layer:
    slug: str
    name: str
    projection: str
    rules: tuple
    source: Optional[Source]
    file: str = ""
    search: Optional[NoticeSearch] = None


LAYER = Schema("calendar layer", {
    "name": Text("Name shown on pages.", required=True),
    "projection": Choice({"china_statutory": "China's statutory holidays (holidays library)",
                          "islamic": "Islamic dates (hijridate, Umm al-Qura)"},
                         "How years without a published arrangement are projected.",
                         required=True),
    "rules": ListOf(Record(ISLAMIC_RULE), "For 'islamic' projection: the holidays.",
                    default=list),
    "source": Record(SOURCE, "The rule that defines the holidays."),
    "search": Record(NOTICE_SEARCH, "Where `python build.py harvest` looks for the next "
                     "year's arrangement."),
}, help="A calendar layer: calendars/<layer>/layer.yaml.")


@dataclass(frozen=True)
class SiteConfig:
    title: str
    base_url: str
    description: str
    calendar_years: tuple
    official_domains: tuple = ()

    @property
    def base_path(self) -> str:
        """The path part of ``base_url``: '/' or a sub-path such as '/erjian/'."""
        return "/" + self.base_url.split("://", 1)[1].split("/", 1)[1] if self.base_url.count(
            "/") > 2 else "/"

    @property
    def host(self) -> str:
        return self.base_url.split("://", 1)[1].split("/", 1)[0]


def _check_site(values, ctx, data):
    if values["first_calendar_year"] > values["last_calendar_year"]:
        ctx.error(data.line_of("first_calendar_year"), "first_calendar_year",
                  "first_calendar_year is later than last_calendar_year")
    try:  # the rule --base-url follows too; a missing final '/' is added
        values["base_url"] = normalise_base_url(values["base_url"])
    except ValueError as exc:
        ctx.error(data.line_of("base_url"), "base_url", str(exc))


SITE = Schema("site", {
    "title": Text("Site name.", required=True, max_length=40),
    "description": Text("One-sentence description.", required=True),
    "base_url": Url("Address the site is published at (a missing final '/' is added); "
                    "may include a sub-path. Canonical URLs, feeds, calendars and the sitemap use it; "
                    "`--base-url` overrides it for one build.", required=True, policy=False),
    "first_calendar_year": Year("First year the working-day calendar covers.",
                                years=CALENDAR_YEARS, minimum=2000, default=2019),
    "last_calendar_year": Year("Last year the working-day calendar covers.",
                               years=CALENDAR_YEARS, minimum=2000, default=2028),
    "official_domains": ListOf(Domain(),
                               "Reviewed official domains outside gov.cn that authority links "
                               "may use (each with a comment saying who checked it and how).",
                               default=list, unique=True),
}, cross_check=_check_site, help="content/site.yaml.")
