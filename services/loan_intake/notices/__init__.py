"""Texts to the firm when its application moves (审核结果, 银行审批, 放款, 补贴到账 …): sent to
the phones of its verified accounts through the outbound channel (shared/outbound.py). The
message centre is the record; a text is the nudge to look."""
