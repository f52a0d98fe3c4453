from rest_framework.routers import SimpleRouter

from backups import api

router = SimpleRouter(trailing_slash=False)
router.register("backups", api.BackupViewSet, basename="backup")
urlpatterns = router.urls
