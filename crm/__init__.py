"""The CRM's standard objects: one Django app per domain, all resting on `crm.records`.

records     what every record shares: owner/org/channel columns, the scope doors, audit, numbering,
            attachments, reminders, money
customers   accounts, contacts, leads, the customer pool (公海), duplicates and merge
activities  follow-ups and visit plans
sales       pipelines, opportunities, stage history, funnel and forecast
catalog     product lines, products, units, price books
quotes      quotes (询报价) with lines and versions
contracts   contracts with numbering, signatories and renewals
orders      orders, lines and deliveries
finance     payment plans (分期回款), payments, invoices, receivables, credit control
service     cases and complaints
dealers     the dealer portal's own objects: deal registration (报备), rebates (返利), channel performance
"""
