import factory

from notifications.models import Channel


class ChannelFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Channel

    name = factory.Sequence(lambda n: f"channel {n}")
    kind = Channel.Kind.EMAIL
    recipients = "oncall@example.com"
    enabled = True


class SlackChannelFactory(ChannelFactory):
    kind = Channel.Kind.SLACK
    recipients = ""
    url = "https://hooks.slack.example/services/T000/B000/XXXX"


class WebhookChannelFactory(ChannelFactory):
    kind = Channel.Kind.WEBHOOK
    recipients = ""
    url = "https://receiver.example/hook"
    secret = "s3cret-for-tests"


class DashboardChannelFactory(ChannelFactory):
    kind = Channel.Kind.DASHBOARD
    recipients = ""
