from rest_framework.routers import SimpleRouter

from notifications import api

router = SimpleRouter(trailing_slash=False)
router.register("channels", api.ChannelViewSet, basename="channel")

urlpatterns = router.urls
