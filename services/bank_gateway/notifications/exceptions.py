from shared.errors import Conflict, NotFound


class DeliveryNotFound(NotFound):
    slug, title = "delivery-not-found", "投递记录不存在 (delivery not found)"


class DeliveryStateConflict(Conflict):
    slug, title = "delivery-state-conflict", "该投递不能重发 (delivery cannot be redelivered)"
