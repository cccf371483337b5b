"""Cloud cash-register providers (54-ФЗ): АТОЛ Онлайн v5 first."""
