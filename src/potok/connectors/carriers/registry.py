"""The carriers a Potok process knows, by code, built from the settings."""

from __future__ import annotations

from collections.abc import Iterable

from potok.connectors.carriers.interface import Carrier
from potok.connectors.carriers.sandbox import SandboxCarrier
from potok.domain.errors import NotFound
from potok.settings import CarrierSettings


class CarrierNotFound(NotFound):
    code = "carrier-not-found"
    title = "Carrier not found"
    template = "There is no carrier '{carrier}'; known: {known}."


class CarrierRegistry:
    """Carriers by their code."""

    def __init__(self, carriers: Iterable[Carrier]) -> None:
        self._carriers = {c.code: c for c in carriers}

    def get(self, code: str) -> Carrier:
        carrier = self._carriers.get(code)
        if carrier is None:
            raise CarrierNotFound(carrier=code, known=", ".join(sorted(self._carriers)))
        return carrier

    def __contains__(self, code: object) -> bool:
        return code in self._carriers

    @property
    def codes(self) -> list[str]:
        return sorted(self._carriers)


def build_registry(settings: CarrierSettings) -> CarrierRegistry:
    """The sandbox always; real carriers as their settings enable them (СДЭК: an account)."""
    carriers: list[Carrier] = [
        SandboxCarrier(
            seed=settings.sandbox_seed,
            secret=settings.sandbox_webhook_secret.get_secret_value(),
            storage_days=settings.storage_days,
        )
    ]
    if settings.cdek_client_id:
        carriers.append(cdek_from(settings))
    if settings.pochta_token.get_secret_value():
        carriers.append(pochta_from(settings))
    return CarrierRegistry(carriers)


def pochta_from(settings: CarrierSettings) -> Carrier:
    """Почта России's adapter from the settings."""
    from potok.connectors.carriers.pochta import PochtaCarrier

    return PochtaCarrier(
        base_url=settings.pochta_url,
        token=settings.pochta_token.get_secret_value(),
        login=settings.pochta_login,
        password=settings.pochta_password.get_secret_value(),
        index_from=settings.pochta_index_from,
        tracking_url=settings.pochta_tracking_url,
        tracking_login=settings.pochta_tracking_login,
        tracking_password=settings.pochta_tracking_password.get_secret_value(),
        mail_type=settings.pochta_mail_type,
        mail_category=settings.pochta_mail_category,
        point_cities=[c.strip() for c in settings.pochta_point_cities.split(",") if c.strip()],
        timeout_s=settings.cdek_timeout_s,
        attempts=settings.cdek_attempts,
    )


def cdek_from(settings: CarrierSettings) -> Carrier:
    """СДЭК's adapter from the settings (hosts, account, webhook secret, waits)."""
    from potok.connectors.carriers.cdek import CdekCarrier
    from potok.connectors.carriers.cdek_http import CdekHttp

    http = CdekHttp(
        base_url=settings.cdek_url,
        client_id=settings.cdek_client_id,
        client_secret=settings.cdek_client_secret.get_secret_value(),
        timeout_s=settings.cdek_timeout_s,
        attempts=settings.cdek_attempts,
    )
    return CdekCarrier(
        http,
        webhook_secret=settings.cdek_webhook_secret.get_secret_value(),
        shipment_point=settings.cdek_shipment_point,
        sender_name=settings.cdek_sender_name,
        booking_wait_s=settings.cdek_booking_wait_s,
        check_every_s=settings.cdek_check_every_s,
        quote_ttl_s=settings.cdek_quote_ttl_s,
        storage_days=settings.storage_days,
    )
