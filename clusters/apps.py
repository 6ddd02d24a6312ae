from django.apps import AppConfig


class ClustersConfig(AppConfig):
    name = "clusters"
    verbose_name = "Clusters"

    def ready(self):
        # Portal workers find a cloud's configuration (with its credentials) in the database; a
        # gateway agent sets its own resolver from agent.toml (portal/agent.py).
        from clusters import cloudside, userdata
        from contexts.render import limits

        cloudside.resolver = _cloud_config_from_database
        # The profiles app offers providers' user-data limits by name (the preview, the render API,
        # render_profile) without importing clusters: these are read from the provider classes.
        limits.source = userdata.user_data_limits


def _cloud_config_from_database(cloud_ref: dict):
    from clusters.models import Cloud
    from clusters.providers import CloudError

    cloud = Cloud.objects.filter(pk=cloud_ref["id"]).first()
    if cloud is None:
        raise CloudError(f"cloud {cloud_ref['id']} no longer exists", permanent=True)
    if cloud.served_by_agent:
        # The agent holds its credentials; a portal worker that took this task consumes the agent's
        # queue by mistake.
        raise CloudError(
            f"cloud {cloud.name} is served by a gateway agent on queue {cloud.queue}, not by portal workers",
            permanent=True,
        )
    return cloud.config()
