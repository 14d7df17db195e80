"""Issue 13: links that are gone but answer 200 (parked domains, absorbed outlets, removal notices,
script redirects) and links that look gone but are not (consent walls): through ``archiver check``
against loopback hosts, and the phrase rules with their negatives."""

from __future__ import annotations

import json
from typing import Any

import pytest

from archiver.liveness.pages import PageInfo, page_info, visible_text
from archiver.liveness.parking import parked_page
from archiver.liveness.probe import PageSeen, Probe, compare_with_probe
from archiver.liveness.soft404 import absorbed_redirect, consent_redirect, content_verdict, error_page, is_consent_url
from tests.pipeline.test_check_cli import FAST, run_cli, write_event
from tests.support.farm_sites import (
    GERMAN_TEMPLATE,
    PARKED_SEDO,
    REMOVAL_TITLES,
    SCRIPT_HOME,
    SPANISH_TEMPLATE,
    RotSites,
    article,
    build_rot_sites,
    build_sites,
    check_one,
    page,
    prose,
)


@pytest.fixture(scope="module")
def rot() -> RotSites:
    build_sites()
    return build_rot_sites()


def _cases(rot: RotSites) -> dict[str, str]:
    return {
        "parked": rot.parked.url("/2019/05/council-votes-on-budget"),
        "parked_home": rot.parked.url("/"),
        "parked_title": rot.parked_title.url("/news/2020/river-clean-up"),
        "parked_plain": rot.parked_plain.url("/news/2020/school-board-votes"),
        "absorbed": rot.absorbed.url("/2018/07/judge-hears-appeal"),
        "moved": rot.moved.url("/articles/minister-visits-hospital"),
        **{f"removed_{lang}": rot.rot.url(f"/removed/{lang}/story-{lang}") for lang in REMOVAL_TITLES},
        "js_home": rot.rot.url("/js-home/court-rules"),
        "js_home_href": rot.rot.url("/js-home-href/police-camera"),
        "js_in_article": rot.rot.url("/js-in-article/union-protest"),
        "consent_wall": rot.rot.url("/consent-wall/agency-report"),
        "consent_local": rot.rot.url("/consent-local/senator-bill"),
        "german_soft": rot.german.url("/2019/entfernter-beitrag-zum-haushalt"),
        "german_alive": rot.german.url("/artikel/stadtrat-beschliesst-haushalt"),
        "spanish_soft": rot.spanish.url("/2019/noticia-retirada-del-tribunal"),
        "spanish_alive": rot.spanish.url("/noticia/tribunal-decide-contrato"),
        "alive": rot.rot.url("/articles/council-approves-budget"),
    }


@pytest.fixture(scope="module")
def report(rot: RotSites, tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    """One `archiver check` run over a timeline citing every case; its report's links by case name."""
    tmp = tmp_path_factory.mktemp("rot")
    events = tmp / "events"
    events.mkdir()
    cases = _cases(rot)
    urls = list(cases.values())
    for i in range(0, len(urls), 5):
        write_event(events, f"2020-01-0{i // 5 + 1}--rot", urls[i:i + 5])
    done = run_cli(["--events", str(events), "--report-dir", str(tmp / "out"), "--allow-networks", "127.0.0.0/8",
                    *FAST], cwd=tmp)
    assert done.returncode == 0, done.stderr
    links = {entry["url"]: entry for entry in json.loads((tmp / "out" / "report.json").read_text("utf-8"))["links"]}
    return {name: links[url] for name, url in cases.items()}


def test_parked_domain_is_dead_with_readable_evidence(report: dict[str, dict[str, Any]]) -> None:
    for name in ("parked", "parked_home"):
        entry = report[name]
        assert entry["status"] == "dead", entry
        assert entry["http_status"] == 200
        assert entry["evidence"] == ("the domain is parked (the page says 'This domain may be for sale'; it uses the "
                                     "parking service sedoparking.com; it shows a 'related searches' block)")


def test_parked_domain_with_only_a_title_is_corroborated_by_the_random_path(report: dict[str, dict[str, Any]]) -> None:
    entry = report["parked_title"]
    assert entry["status"] == "dead", entry
    assert entry["evidence"] == ("the domain is parked (the page says 'gazetteoftheriver.com is for sale'; "
                                 "a random, non-existent path shows the same page)")


def test_parked_domain_without_signs_is_still_caught_by_the_probe(report: dict[str, dict[str, Any]]) -> None:
    entry = report["parked_plain"]
    assert entry["status"] == "soft_404", entry
    assert entry["evidence"].startswith("the page matches what the host serves for a random, non-existent path")


def test_absorbed_outlet_redirects_everything(rot: RotSites, report: dict[str, dict[str, Any]]) -> None:
    entry = report["absorbed"]
    assert entry["status"] == "soft_404", entry
    assert entry["evidence"] == f"the site now redirects everything to {rot.owner.url('/')}"
    assert entry.get("moved_to") is None


def test_outlet_moved_with_its_paths_is_alive_and_moved(rot: RotSites, report: dict[str, dict[str, Any]]) -> None:
    entry = report["moved"]
    assert entry["status"] == "alive", entry
    assert entry["moved_to"] == rot.owner.url("/articles/minister-visits-hospital")


@pytest.mark.parametrize("lang", sorted(REMOVAL_TITLES))
def test_removal_notice_is_soft_404(report: dict[str, dict[str, Any]], lang: str) -> None:
    entry = report[f"removed_{lang}"]
    assert entry["status"] == "soft_404", entry
    assert entry["evidence"] == f"the page title says {REMOVAL_TITLES[lang]!r}"


def test_script_redirect_to_home_is_soft_404(rot: RotSites, report: dict[str, dict[str, Any]]) -> None:
    entry = report["js_home"]
    assert entry["status"] == "soft_404", entry
    assert entry["evidence"] == ("redirected by a script (location.replace(\"/\")) to the site's home page "
                                 f"({rot.rot.url('/')})")
    entry = report["js_home_href"]
    assert entry["status"] == "soft_404", entry
    assert entry["evidence"] == ("redirected by a script (window.location.href = '/') to the site's home page "
                                 f"({rot.rot.url('/')})")


def test_article_with_a_redirect_script_stays_alive(report: dict[str, dict[str, Any]]) -> None:
    assert report["js_in_article"]["status"] == "alive", report["js_in_article"]


def test_consent_walls_are_blocked_not_soft_404(rot: RotSites, report: dict[str, dict[str, Any]]) -> None:
    entry = report["consent_wall"]
    assert entry["status"] == "blocked", entry
    assert entry["evidence"] == (f"redirected to a cookie-consent page ({rot.consent.ip}): the site asks for consent "
                                 "before showing the page")
    entry = report["consent_local"]
    assert entry["status"] == "blocked", entry
    assert entry["evidence"].startswith(f"redirected to a cookie-consent page ({rot.rot.ip})")


@pytest.mark.parametrize("lang", ["german", "spanish"])
def test_non_english_not_found_templates_match_the_probe(report: dict[str, dict[str, Any]], lang: str) -> None:
    entry = report[f"{lang}_soft"]
    assert entry["status"] == "soft_404", entry
    assert entry["evidence"].startswith("the page matches what the host serves for a random, non-existent path")
    assert report[f"{lang}_alive"]["status"] == "alive", report[f"{lang}_alive"]


def test_normal_article_on_the_same_host_is_alive(report: dict[str, dict[str, Any]]) -> None:
    assert report["alive"]["status"] == "alive", report["alive"]


async def test_parked_title_alone_without_the_probe_is_not_dead(rot: RotSites) -> None:
    """Without corroboration a lone "<name> is for sale" title proves nothing ("Tumblr.com is for sale"
    is also a headline): the verdict stays what it was before (alive), never dead."""
    from tests.support.farm_sites import fast_settings

    result = await check_one(rot.parked_title.url("/news/2021/no-probe"), fast_settings(soft404_probe=False))
    assert result.status == "alive", result


async def test_absorbed_without_the_probe_keeps_the_generic_evidence(rot: RotSites) -> None:
    from tests.support.farm_sites import fast_settings

    result = await check_one(rot.absorbed.url("/2018/08/no-probe-story"), fast_settings(soft404_probe=False))
    assert result.status == "soft_404" and result.moved_to is None
    assert result.evidence == f"redirected to the site's home page ({rot.owner.url('/')})"


# --------------------------------------------------------------------------- the phrase rules

REMOVAL_NOTICES = [
    "This article is no longer available", "Story removed | Acme", "The page you requested has been removed",
    "This content has been removed by the author", "Article unavailable", "This story has expired",
    "This video is unavailable", "Sorry, this article has been taken down", "No longer available",
    "Dieser Artikel ist nicht mehr verfügbar", "Artikel wurde entfernt", "Der Beitrag wurde gelöscht",
    "Diese Seite existiert leider nicht mehr", "Inhalt nicht verfügbar | Tagesblatt",
    "Cet article n'est plus disponible", "contenu supprimé", "Cette page n'existe pas ou plus",
    "L'article a été supprimé – Le Journal", "Este artículo ya no está disponible", "Contenido eliminado",
    "Lo sentimos, esta página no existe", "La página que buscas no existe", "Este artigo não está mais disponível",
    "Conteúdo removido", "Esta notícia foi removida", "Questo articolo non è più disponibile",
    "Contenuto rimosso", "Quest'articolo non esiste più", "Erreur 404 - Le Monde", "Fehler 404",
]
NOT_FOUND_PAGES = ["Seite nicht gefunden", "Página no encontrada", "Page introuvable", "Página não encontrada",
                   "Pagina non trovata", "Page not found | The Seattle Times"]
ARTICLE_TITLES = [
    "Trump administration removed climate pages from EPA site", "Report: data not available for 2019",
    "Content removed from Facebook after outcry | The Verge", "Why this article is no longer available in Europe",
    "Article 13 removed from the copyright bill", "Video: police remove protesters from city hall",
    "Democracy is for sale | The Guardian", "Buy this domain? The odd market for dead news sites",
    "The 404 club: newspapers that vanished", "Artikel 5 ist nicht verfügbar für alle Bürger",
    "Le contenu supprimé par Facebook en 2020", "El contenido eliminado de YouTube crece un 20%",
    "Conteúdo removido do Twitter: o que sabemos", "Il video rimosso da TikTok fa discutere",
    "This content is not available in your country", "Removed from office: the mayor's last day",
    "Tumblr.com is for sale, again", "Gone: the paper that covered the river for 90 years",
]


@pytest.mark.parametrize("title", REMOVAL_NOTICES + NOT_FOUND_PAGES)
def test_removal_and_not_found_titles(title: str) -> None:
    assert error_page(title, "") is not None


@pytest.mark.parametrize("title", ARTICLE_TITLES)
def test_article_titles_stay_alive(title: str) -> None:
    assert error_page(title, "") is None and error_page("Example News", title) is None
    body = page(title, prose(title, 400), h1=title).encode()
    assert content_verdict("https://example.org/2020/05/story", body, "text/html") is None


def _info(html_text: str) -> tuple[PageInfo, str]:
    body = html_text.encode()
    info = page_info(body, "text/html")
    return info, visible_text(body, info.encoding)


def test_parked_needs_two_signs_on_a_thin_page() -> None:
    assert parked_page(*_info(PARKED_SEDO))
    # an article that mentions buying a domain and links a marketplace is long: never parked
    text = ("This domain may be for sale, the notice said. Buy this domain, it urged; see "
            "<a href='https://dan.com/buy-domain/x'>the listing</a>. ") + prose("domain-article", 400)
    assert parked_page(*_info(page("Buy this domain: the market for dead news sites | Wired", text))) is None
    # a thin page with a single sign (a sentence only) is not parked on its content alone
    assert parked_page(*_info(page("Contact | Small Shop", "Buy this domain or contact us."))) is None


def test_content_verdict_covers_the_new_rules() -> None:
    url = "https://rivertonherald.com/2019/05/story"
    assert content_verdict(url, PARKED_SEDO.encode(), "text/html") == (
        "dead", "the domain is parked (the page says 'This domain may be for sale'; it uses the parking service "
                "sedoparking.com; it shows a 'related searches' block)")
    status, why = content_verdict(url, page(REMOVAL_TITLES["de"], prose("x", 60)).encode(), "text/html") or ("", "")
    assert status == "soft_404" and "nicht mehr verfügbar" in why
    assert content_verdict(url, SCRIPT_HOME.encode(), "text/html") == (
        "soft_404", "redirected by a script (location.replace(\"/\")) to the site's home page "
                    "(https://rivertonherald.com/)")
    # a script to another deep page is not judged; nor is a cited home page reloading itself
    deep = SCRIPT_HOME.replace('"/"', '"/2019/05/story-new"').encode()
    assert content_verdict(url, deep, "text/html") is None
    assert content_verdict("https://rivertonherald.com/", SCRIPT_HOME.encode(), "text/html") is None
    # challenges and error pages as before
    assert content_verdict(url, b"<title>Just a moment...</title>", "text/html") == (
        "blocked", "bot challenge page ('Just a moment...')")
    assert content_verdict(url, page("Page not found | Riverton", "x").encode(), "text/html") == (
        "soft_404", "the page title says 'Page not found | Riverton'")
    # a big article with a redirect script inside stays alive
    big = article("council-budget").replace("</body>", "<script>location.replace('/')</script></body>").encode()
    assert content_verdict(url, big, "text/html") is None
    # a listing on a marketplace is the cited page itself
    assert content_verdict("https://sedo.com/search/details/?domain=x.com", PARKED_SEDO.encode(), "text/html") is None


@pytest.mark.parametrize(("url", "expected"), [
    ("https://consent.yahoo.com/v2/collectConsent?sessionId=3_cc-session_abc", True),
    ("https://consent.google.com/ml?continue=https://www.google.com/maps&gl=DE", True),
    ("https://www.example.com/consent?return=/news/story", True),
    ("https://guce.example.com/consent?originalUrl=https%3A%2F%2Fnews.example.com%2Fx", True),
    ("https://www.example.com/privacy/consent-policy", False),
    ("https://www.example.com/news/consent-decree-ruling", False),
    ("https://www.example.com/consent", False),
])
def test_consent_urls(url: str, expected: bool) -> None:
    assert is_consent_url(url) is expected


def test_consent_redirect_evidence() -> None:
    cited = "https://news.example.com/2020/story"
    assert consent_redirect(cited, ["https://consent.example.com/collect?originalUrl=x"]) == (
        "redirected to a cookie-consent page (consent.example.com): the site asks for consent before showing the page")
    assert consent_redirect(cited, ["https://news.example.com/2020/story-2"]) is None
    assert consent_redirect("https://consent.google.com/ml?continue=x", ["https://consent.google.com/ml?x=1"]) is None


def test_absorbed_needs_the_random_path_to_go_the_same_way() -> None:
    cited, final = "https://oldpaper.com/2018/07/story", "https://bigmedia.com/"
    same = Probe(url="https://oldpaper.com/archiver-probe-1", status=200, final_url="https://www.bigmedia.com/",
                 redirected=True, text="home")
    assert absorbed_redirect(cited, final, same) == "the site now redirects everything to https://bigmedia.com/"
    real_404 = Probe(url="https://oldpaper.com/archiver-probe-1", status=404, final_url="https://bigmedia.com/x",
                     redirected=True)
    assert absorbed_redirect(cited, final, real_404) is None
    # same site to its own home page: the usual generic-redirect evidence, not "absorbed"
    assert absorbed_redirect(cited, "https://oldpaper.com/", same) is None
    # a deep page on the new site is a move, not an absorption
    assert absorbed_redirect(cited, "https://bigmedia.com/2018/07/story", same) is None


@pytest.mark.parametrize(("template", "title"), [(GERMAN_TEMPLATE, "Riverton Zeitung"),
                                                 (SPANISH_TEMPLATE, "Diario Riverton")])
def test_compare_with_probe_on_non_english_templates(template: str, title: str) -> None:
    probe = Probe(url="https://a.de/archiver-probe-1a2b", status=200, final_url="https://a.de/archiver-probe-1a2b",
                  title=title, text=template.format(path="/archiver-probe-1a2b"))
    page_text = template.format(path="/2019/verschwundener-beitrag")
    assert compare_with_probe(PageSeen(page_text, title, "https://a.de/2019/verschwundener-beitrag", False), probe, 0.9)
    article = PageSeen(prose("de-article", 300), title, "https://a.de/2019/x", False)
    assert compare_with_probe(article, probe, 0.9) is None

