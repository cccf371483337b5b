"""The fiscal desk a Potok process works with, built from the settings."""

from __future__ import annotations

from potok.domain.fiscal import AgentInfo, EntityProfile, FiscalMode, FiscalRules, Taxation
from potok.services.fiscal.desk import FiscalDesk
from potok.settings import FiscalSettings


def rules_from(settings: FiscalSettings) -> FiscalRules:
    """The fiscal rules the settings say."""
    return FiscalRules(
        enabled=settings.enabled,
        default_mode=FiscalMode(settings.mode),
        modes={channel: FiscalMode(mode) for channel, mode in settings.modes_by_channel.items()},
        profiles={
            code: EntityProfile(
                account=entity.account,
                taxation=Taxation(entity.taxation),
                payment_address=entity.payment_address,
                email=entity.email,
            )
            for code, entity in settings.entities.items()
        },
        agents={
            channel: AgentInfo(
                type=agent.type,
                supplier_inn=agent.supplier_inn,
                supplier_name=agent.supplier_name,
                supplier_phones=tuple(agent.supplier_phones),
            )
            for channel, agent in settings.agents_by_channel.items()
        },
        accounts=frozenset(settings.accounts),
    )


def build_desk(settings: FiscalSettings) -> FiscalDesk:
    """The rules and a register per configured account."""
    from potok.connectors.fiscal.atol import AtolRegister

    registers = {
        name: AtolRegister(
            name=name,
            base_url=account.url,
            login=account.login,
            password=account.password.get_secret_value(),
            group_code=account.group_code,
            timeout_s=account.timeout_s,
            callback_url=settings.callback_url,
        )
        for name, account in settings.accounts.items()
    }
    return FiscalDesk(
        rules=rules_from(settings),
        registers=registers,
        callback_url=settings.callback_url,
        poll_after_s=settings.poll_after_s,
        batch=settings.batch,
    )
