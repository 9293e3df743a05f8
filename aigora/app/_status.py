"""What `aigora chain status` and `GET /chain/status` report: one function, two front ends."""

from pydantic import BaseModel

from aigora.chain import Chain, Deployment, read_operator


class OperatorStatus(BaseModel):
    address: str
    ether_wei: str
    token_balance: str
    registered: bool
    active: bool
    bond: str
    unbonding: str


class ChainStatus(BaseModel):
    """Amounts are decimal strings of the smallest unit: JSON numbers lose precision past 2^53."""

    backend: str
    url: str
    chain_id: int
    client: str
    block_number: int
    timestamp: int
    contracts: dict[str, str]
    operator: OperatorStatus | None


def chain_status(chain: Chain, deployment: Deployment | None, operator: str | None) -> ChainStatus:
    operator_status = None
    if operator is not None:
        token_balance, registered, active, bond, unbonding = 0, False, False, 0, 0
        if deployment is not None:
            token_balance = chain.call(deployment.token.functions.balanceOf(operator))
            record = read_operator(chain, deployment.registry, operator)
            bond, unbonding, registered = record.bond, record.unbonding, record.registered
            active = chain.call(deployment.registry.functions.is_active_operator(operator))
        operator_status = OperatorStatus(
            address=operator,
            ether_wei=str(chain.balance(operator)),
            token_balance=str(token_balance),
            registered=registered,
            active=active,
            bond=str(bond),
            unbonding=str(unbonding),
        )
    return ChainStatus(
        backend=chain.kind,
        url=chain.url,
        chain_id=chain.chain_id,
        client=chain.client_version,
        block_number=chain.block_number(),
        timestamp=chain.now(),
        contracts=deployment.addresses() if deployment else {},
        operator=operator_status,
    )


class OperatorListing(BaseModel):
    address: str
    bond: int
    endpoint: str
    slashed: bool


def registered_operators(chain: Chain, deployment: Deployment) -> list[OperatorListing]:
    """Every operator that ever registered in the registry, once each, with its standing now
    (the registrations are read from the registry's deployment block, in bounded ranges)."""
    registry = deployment.registry
    found: dict[str, OperatorListing] = {}
    start = chain.deployment_block(registry.address)
    for log in chain.events(registry.events.OperatorRegistered, start):
        address = str(log.args.operator)
        if address not in found:
            record = read_operator(chain, registry, address)
            found[address] = OperatorListing(
                address=address, bond=record.bond, endpoint=record.endpoint, slashed=record.slashed
            )
    return list(found.values())
