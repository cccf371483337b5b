"""Which channels take payments through the gateway: an own-shop channel connected to its
gateway account (shop id, sealed secret key, the page customers return to)."""

from __future__ import annotations

from collections.abc import Sequence

from potok.domain.channels import ChannelNotFound, ChannelType
from potok.domain.kernel import Actor, Clock, utc_now
from potok.domain.payments import AccountNotFound, MarketplaceTakesNoGateway
from potok.domain.payments.accounts import AccountDraft, PaymentAccount
from potok.services.unit_of_work import UnitOfWork, atomically, reading


def connect_channel(
    uow: UnitOfWork, draft: AccountDraft, actor: Actor, *, clock: Clock = utc_now
) -> PaymentAccount:
    """Connect an own-shop channel to its gateway account, or change the account (an
    empty secret key keeps the stored one). Marketplace channels are refused."""

    def work(uow: UnitOfWork) -> PaymentAccount:
        channel = uow.channels.get_by_code(draft.channel_code)
        if channel is None:
            raise ChannelNotFound(channel=draft.channel_code)
        if channel.type is ChannelType.MARKETPLACE:
            raise MarketplaceTakesNoGateway(channel=channel.code)
        draft.validate(new=uow.payments.account(channel.id) is None)
        uow.payments.put_account(draft, channel.id, clock())
        found = uow.payments.account(channel.id)
        assert found is not None
        return found

    return atomically(uow, work)


def account_of(uow: UnitOfWork, channel_code: str) -> PaymentAccount:
    def work(uow: UnitOfWork) -> PaymentAccount:
        channel = uow.channels.get_by_code(channel_code)
        if channel is None:
            raise ChannelNotFound(channel=channel_code)
        found = uow.payments.account(channel.id)
        if found is None:
            raise AccountNotFound(channel=channel_code)
        return found

    return reading(uow, work)


def list_accounts(uow: UnitOfWork) -> Sequence[PaymentAccount]:
    return reading(uow, lambda uow: uow.payments.accounts())
