"""Seed-like articles for the story tests (fictional, written for this project like seeds/).

One event — the Nordmark central bank holding rates — told by three outlets, a syndicated copy,
a later article that adds facts, and distractors that share its people and places but are other
events (the same governor a week later on another topic, the same minister on the budget).
"""

from __future__ import annotations

from datetime import datetime, timezone

from briefing.models import ArticleDraft

T0 = datetime(2026, 11, 24, 7, 0, tzinfo=timezone.utc)


def at(hours: float) -> datetime:
    from datetime import timedelta

    return T0 + timedelta(hours=hours)


LEDGER = ArticleDraft(
    "https://ledger.example/central-bank-holds", "Central bank holds rates as inflation stays above target",
    "The Nordmark Central Bank kept its main interest rate at 3.75% on Tuesday, saying inflation was falling "
    "more slowly than it had expected and that it was too early to cut borrowing costs.\n\n"
    "Governor Elise Brandt said consumer prices rose 3.1% in the year to October, well above the bank's 2% "
    "target. She warned that wage growth of more than 5% risked keeping inflation high into next year.\n\n"
    "Finance Minister Jonas Aberg criticised the decision, arguing that households and small firms needed "
    "relief from high mortgage payments.\n\n"
    "Markets had largely expected the decision. The krone rose slightly against the euro after the announcement.",
    at(0), "ledger-world")

WIRE = ArticleDraft(
    "https://wire.example/nordmark-rates", "Nordmark keeps interest rate at 3.75% as prices climb",
    "Nordmark's central bank left its benchmark interest rate unchanged at 3.75% on Tuesday, arguing that "
    "inflation was falling more slowly than expected.\n\n"
    "Brandt said consumer prices rose 3.2% in the year to October, well above the bank's 2% target, and "
    "that the bank would not hesitate to act if price pressures returned.\n\n"
    "Finance Minister Jonas Aberg criticised the decision, saying households and small firms needed relief "
    "from high mortgage payments.",
    at(1.5), "nordic-wire")

COPY = ArticleDraft(  # a lightly edited syndicated copy of LEDGER: one more outlet, nothing new
    "https://harbour.example/syndicated/central-bank", "Central bank holds rates as inflation stays above target",
    LEDGER.text.replace("small firms", "small businesses").replace(
        " The krone rose slightly against the euro after the announcement.", ""), at(3), "harbour-times")

UPDATE = ArticleDraft(  # later the same day: the same event, and new facts
    "https://wire.example/nordmark-rates-vote", "Two Nordmark rate-setters voted for a cut, minutes show",
    "Two of the five members of the Nordmark Central Bank's board voted to cut the interest rate from 3.75% "
    "on Tuesday, the bank's minutes showed.\n\n"
    "Governor Elise Brandt said the majority wanted more evidence that inflation was falling before cutting "
    "borrowing costs.\n\n"
    "Finance Minister Jonas Aberg said the split vote showed the bank had kept rates too high for too long.",
    at(6), "nordic-wire")

DISTRACTORS = [
    ArticleDraft(  # same governor, another event
        "https://ledger.example/brandt-digital-krone", "Brandt opens consultation on a digital krone",
        "Governor Elise Brandt on Monday opened a public consultation on a digital krone, saying cash use in "
        "Nordmark had halved in five years.\n\n"
        "The consultation runs until March and asks banks and shops how a state-backed digital currency "
        "should work. Brandt said no decision would be taken before 2028.",
        at(30), "ledger-world"),
    ArticleDraft(  # same minister, another event
        "https://wire.example/aberg-budget", "Aberg presents budget with tax cut for pensioners",
        "Finance Minister Jonas Aberg presented the government's budget on Thursday, with a tax cut for "
        "pensioners and more money for rail lines in the north.\n\n"
        "Aberg said the budget would leave a small surplus. The opposition said the rail plans were too slow.",
        at(40), "nordic-wire"),
    ArticleDraft(  # same place, another event
        "https://harbour.example/halden-port-strike", "Port Halden dock workers strike over automation plan",
        "Dock workers at Port Halden in Nordmark walked off the job on Thursday, halting container traffic in a "
        "dispute over plans to automate three of its five terminals.\n\n"
        "Union leader Marta Kessler said members would not be replaced by cranes.",
        at(20), "harbour-times"),
]
