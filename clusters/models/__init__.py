"""The clusters app's models, by topic: clouds and their offerings and images; cluster
definitions and their roles; launched clusters, their instances and events; the rendezvous
store the instances of a cluster share."""

from .clouds import (
    DEFAULT_QUEUE,
    CheckState,
    Cloud,
    CloudSize,
    Image,
    ServiceOffering,
    SizeMapping,
    driver_choices,
    queue_name_validator,
)
from .definitions import ClusterDefinition, Role
from .launches import Cluster, ClusterEvent, ClusterState, Instance, InstanceState, QueueSample
from .rendezvous import RendezvousEntry

__all__ = [
    "DEFAULT_QUEUE",
    "CheckState",
    "Cloud",
    "CloudSize",
    "Cluster",
    "ClusterDefinition",
    "ClusterEvent",
    "ClusterState",
    "Image",
    "Instance",
    "InstanceState",
    "QueueSample",
    "RendezvousEntry",
    "Role",
    "ServiceOffering",
    "SizeMapping",
    "driver_choices",
    "queue_name_validator",
]
