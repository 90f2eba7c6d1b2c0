"""The link policy (erjian.input.link_policy): every link https and no look-alike of an official domain;
official channels under gov.cn or a reviewed domain; no public suffix as a reviewed domain."""

import pytest

from erjian.input.link_policy import link_problem, official_url_problem, reviewed_domain_problem

REVIEWED = ("xjrsks.com.cn",)


@pytest.mark.parametrize("url", [
    "https://www.gov.cn/zhengce/content/202411/content_6986382.htm",
    "https://www.apta.gov.cn/",
    "https://www.xjrsks.com.cn/",
    "https://v.alkuyi.com/cn/nd.jsp?id=5292&mid=5",   # a news report cited as a source
    "https://www.mnw.cn/news/cj/3018205.html",
])
def test_sources_may_be_any_https_site_that_imitates_nothing(url):
    assert link_problem(url, REVIEWED) is None


@pytest.mark.parametrize("url, reason", [
    ("http://www.apta.gov.cn/", "is not https://"),
    ("ftp://www.apta.gov.cn/", "is not https://"),
    ("https://www.apta.gov.cn.cx-query.com/", "contains 'gov.cn' but belongs to another domain"),
    ("https://apta-gov-cn.com/", "imitates 'gov.cn'"),
    ("https://www.apta.g0v.cn/", "digits for letters"),
    ("https://xjrsks.com.cn.example.net/", "contains 'xjrsks.com.cn'"),
    ("https://www.xjrsk5.com.cn/", "digits for letters to look like 'xjrsks.com.cn'"),
    ("https://www.apta.gov.cn@evil.example.com/", "user name"),
    ("https://www.apta.gov.cn:8443/", "port 8443"),
    ("https://xn--fiqs8s.example.com/", "punycode"),
])
def test_links_that_are_not_https_or_imitate_an_official_domain_are_refused(url, reason):
    problem = link_problem(url, REVIEWED)
    assert problem is not None and reason in problem


def test_official_channels_must_be_under_gov_cn_or_reviewed():
    assert official_url_problem("https://rst.xinjiang.gov.cn/", REVIEWED) is None
    assert official_url_problem("https://www.xjrsks.com.cn/", REVIEWED) is None
    assert "neither under gov.cn nor on the reviewed list" in official_url_problem(
        "https://v.alkuyi.com/cn/nd.jsp", REVIEWED)
    assert "is not https://" in official_url_problem("http://rst.xinjiang.gov.cn/", REVIEWED)


@pytest.mark.parametrize("domain", [
    "com.cn", "net.cn", "org.cn", "edu.cn", "xj.cn", "bj.cn", "com.hk", "org.tw", "co.uk",
    "github.io", "gitee.io", "vercel.app", "aliyuncs.com", "myqcloud.com", "com", "cn",
])
def test_public_suffixes_cannot_be_reviewed_official_domains(domain):
    problem = reviewed_domain_problem(domain)
    assert problem is not None and "public suffix" in problem


@pytest.mark.parametrize("domain, reason", [
    ("gov.cn", "official without being listed"),
    ("rst.xinjiang.gov.cn", "official without being listed"),
    ("gov.cn.com", "contains 'gov.cn'"),
    ("g0v.cn", "digits for letters"),
    ("xn--fiqs8s.com", "punycode"),
])
def test_reviewed_domains_must_not_be_gov_cn_or_imitate_it(domain, reason):
    problem = reviewed_domain_problem(domain)
    assert problem is not None and reason in problem


@pytest.mark.parametrize("domain", ["xjrsks.com.cn", "apta.com.cn", "shzjw.org"])
def test_ordinary_registered_domains_can_be_reviewed(domain):
    assert reviewed_domain_problem(domain) is None
