"""The finance bureau console (财政局工作台): pages over the gateway's own service layer and,
on the signed-in person's behalf, loan_intake's and the guarantee service's APIs."""
